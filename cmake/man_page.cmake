# Writes the roadveil(1) man page from the program's own help texts, so that it never disagrees with them.
#   cmake -DROADVEIL=path/to/roadveil -DOUT=roadveil.1 -DVERSION=x.y.z -P cmake/man_page.cmake
execute_process(COMMAND ${ROADVEIL} --help OUTPUT_VARIABLE _main RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "man page: ${ROADVEIL} --help failed (${_rc})")
endif()

# roff: a backslash is an escape, and a line starting with . or ' is a request.
function(roff_block text out_var)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out_var} ".nf\n${text}\n.fi\n" PARENT_SCOPE)
endfunction()

# The subcommands are the two-space-indented names under "Subcommands:".
string(REGEX REPLACE ".*\nSubcommands:\n" "" _list "${_main}")
string(REGEX MATCHALL "(^|\n)  [a-z-]+" _names "${_list}")
set(_sections "")
foreach(_n ${_names})
  string(STRIP "${_n}" _n)
  execute_process(COMMAND ${ROADVEIL} ${_n} --help OUTPUT_VARIABLE _help RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "man page: ${ROADVEIL} ${_n} --help failed (${_rc})")
  endif()
  string(REGEX REPLACE "Usage: [^ ]*roadveil" "Usage: roadveil" _help "${_help}")
  roff_block("${_help}" _block)
  string(APPEND _sections ".SS roadveil ${_n}\n${_block}")
endforeach()

string(REGEX REPLACE "Usage: [^ ]*roadveil" "Usage: roadveil" _main "${_main}")
roff_block("${_main}" _main_block)
file(WRITE ${OUT}
".TH ROADVEIL 1 \"\" \"roadveil ${VERSION}\" \"User Commands\"
.SH NAME
roadveil \\- hide faces and licence plates in dashcam and street video and photos
.SH SYNOPSIS
.B roadveil
.I SUBCOMMAND
[\\fIOPTIONS\\fR]
.SH DESCRIPTION
${_main_block}.SH SUBCOMMANDS
${_sections}.SH ENVIRONMENT
.TP
.B ROADVEIL_MODELS
The folder of the model files (see the README for where to get each one and its SHA-256); \\fB--models\\fR overrides it.
.SH EXIT STATUS
0 success; 1 bad input or failure, with one message naming the file; 3 a damaged input rendered as far as it decoded;
4 verify or audit found something.
")
