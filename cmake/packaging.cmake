# `cpack` (in the build folder) makes roadveil_VERSION_amd64.deb: the program, its man page, and ONNX Runtime,
# which Debian does not package, in a private folder (/usr/lib/roadveil) that the program finds through its
# RUNPATH. The models are not in the package (README, Models: where to get each file).
include(GNUInstallDirs)
set(ROADVEIL_PRIVATE_LIBDIR ${CMAKE_INSTALL_LIBDIR}/roadveil)
install(TARGETS roadveil RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set_target_properties(roadveil PROPERTIES INSTALL_RPATH "$ORIGIN/../${ROADVEIL_PRIVATE_LIBDIR}")
# Installed under its SONAME (what the program asks for): libonnxruntime.so.1 for every 1.x release.
get_filename_component(_ort_file ${OnnxRuntime_LIBRARY} REALPATH)
install(FILES ${_ort_file} DESTINATION ${ROADVEIL_PRIVATE_LIBDIR} RENAME libonnxruntime.so.1)

set(_man ${CMAKE_BINARY_DIR}/roadveil.1)
add_custom_command(OUTPUT ${_man}
  COMMAND ${CMAKE_COMMAND} -DROADVEIL=$<TARGET_FILE:roadveil> -DOUT=${_man} -DVERSION=${PROJECT_VERSION}
          -P ${PROJECT_SOURCE_DIR}/cmake/man_page.cmake
  DEPENDS roadveil ${PROJECT_SOURCE_DIR}/cmake/man_page.cmake
  COMMENT "Writing the roadveil(1) man page from --help")
add_custom_target(man_page ALL DEPENDS ${_man})
install(FILES ${_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME roadveil)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "roadveil maintainers <roadveil@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "hide faces and licence plates in dashcam and street video and photos")
set(CPACK_PACKAGE_INSTALL_DIRECTORY /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION video)
# Dependencies from the libraries the program links (dpkg-shlibdeps); ONNX Runtime is in the package itself.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/_CPack_Packages/Linux/DEB/roadveil-${PROJECT_VERSION}-Linux/usr/${ROADVEIL_PRIVATE_LIBDIR})
set(CPACK_STRIP_FILES ON)
include(CPack)
