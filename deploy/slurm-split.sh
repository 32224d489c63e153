#!/bin/sh
# One long video split across the nodes of a Slurm cluster: an array of N tasks anonymizes one part each
# (cut at keyframes, with a few seconds of tracking context on both sides), then one job joins the parts with
# the input's audio and other streams into the output, as one run would have written it.
#   deploy/slurm-split.sh /data/drives/long.mp4 /data/anonymized/long.mp4 8
# Rerun a failed part alone with sbatch --array=K (finished parts are skipped), then the join again.
# PART_RESOURCES and JOIN_RESOURCES replace the sbatch resource options of each kind of job.
set -eu
input="$1" output="$2" parts="${3:-8}"
models="${ROADVEIL_MODELS:-/opt/roadveil/models}"
part_resources="${PART_RESOURCES:---cpus-per-task=4 --mem=4G}"
join_resources="${JOIN_RESOURCES:---cpus-per-task=1 --mem=1G}"
# Each path as one shell word for --wrap, whatever it holds (a ' becomes '\'').
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
in_q=$(quote "$input") out_q=$(quote "$output") models_q=$(quote "$models")
# shellcheck disable=SC2086 # the resource options are words
array=$(sbatch --parsable --job-name=roadveil-part --array="0-$((parts - 1))" $part_resources \
  --output="roadveil-part-%A-%a.log" \
  --wrap="exec roadveil anonymize $in_q -o $out_q --segment auto/$parts --models $models_q")
array="${array%%;*}"  # --parsable prints JOBID;CLUSTER on a federation
# shellcheck disable=SC2086
sbatch --parsable --job-name=roadveil-join --dependency="afterok:$array" $join_resources \
  --output="roadveil-join-%j.log" \
  --wrap="exec roadveil anonymize $in_q -o $out_q --join $parts --models $models_q"
