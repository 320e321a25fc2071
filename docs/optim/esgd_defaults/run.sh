#!/bin/bash
# Runs a list of training jobs and records, per run, the final model's training error on the whole training set
# (eval mode, from `flatminima flatness --probes le --sigma 0`), its test error and the final coupling.
# usage: run.sh OUT.csv RUNS_DIR DATA_OPTIONS... < JOBS    (JOBS lines: NAME EPOCHS SEED OPTIONS...)
# Output rows: name,epochs,seed,train_error_pct,test_error,final_gamma_or_coupling,train_seconds
# A finished run (RUNS_DIR/NAME_eE_sS/done) is skipped, so the same command continues an interrupted list.
FLATMINIMA=${FLATMINIMA:-flatminima}
OUT=$1; RUNS=$2; shift 2
DATA="$*"
while read -r name epochs seed rest; do
  [ -z "$name" ] && continue
  dir=$RUNS/${name}_e${epochs}_s${seed}
  [ -f $dir/done ] && continue
  rm -rf $dir; mkdir -p $RUNS
  t0=$(date +%s.%N)
  $FLATMINIMA train --out $dir $DATA --epochs $epochs --seed $seed $rest > $dir.train.txt 2>&1 || { echo "$name,$epochs,$seed,FAILED" >> $OUT; continue; }
  t1=$(date +%s.%N)
  $FLATMINIMA flatness --run $dir --probes le --sigma 0 --draws 1 --json > $dir.flatness.json 2>/dev/null
  tr=$(python3 -c "import json;print(json.load(open('$dir.flatness.json'))['local_energy'][0]['mean_train_error_pct'])")
  te=$(tail -1 $dir/metrics.csv | cut -d, -f5)
  g=$(grep -h -e ",gamma," -e "centre,coupling," $dir/optim_log.csv 2>/dev/null | tail -1 | cut -d, -f5)
  echo "$name,$epochs,$seed,$tr,$te,$g,$(python3 -c "print(round($t1-$t0,2))")" >> $OUT
  touch $dir/done
done
