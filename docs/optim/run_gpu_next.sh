#!/bin/bash
# GPU pass still to do (issue 6): the overhead benchmark of the flat-buffer optimisers and the full-scale
# Fashion-MNIST/LeNet sweep (docs/optim/fmnist_grid.json, 21 runs incl. eSGD at 5x budget), in ONE process.
# Needs, carried: .gpu/optim/app.tar.xz (self-contained publish without the CPU libtorch), .gpu/fmnist/*.gz, and on a
# second call .gpu/fm (the partial sweep that came back under $OUT/fm, copied there): the sweep resumes where it stopped.
# Call: run(command="bash docs/optim/run_gpu_next.sh", carry=[".gpu/optim/app.tar.xz", ".gpu/fmnist", ".gpu/fm"])
set -u
exec > >(tee -a $OUT/log_next.txt) 2>&1
T0=$(date +%s)
source docs/gpu/env.sh .gpu/optim/app.tar.xz
if [ ! -f $OUT/bench_resnet18.json ] && [ ! -d .gpu/fm ]; then
  $FM optim-bench --device cuda --model lenet --batch-size 128 --steps 100 --rounds 5 --out $OUT/bench_lenet.json
  $FM optim-bench --device cuda --model resnet18 --batch-size 128 --steps 20 --warmup 5 --rounds 5 --out $OUT/bench_resnet18.json
  echo "bench done after $(( $(date +%s) - T0 )) s"
fi
mkdir -p .gpu/fm
$FM sweep --grid docs/optim/fmnist_grid.json --out .gpu/fm --device cuda > $OUT/fm.log 2>&1 & P=$!
( sleep ${LIMIT:-500}; echo "watchdog: stopping the sweep (it resumes on the next call)"; kill $P 2>/dev/null ) & WD=$!
wait $P; kill $WD 2>/dev/null
$FM sweep --collect --out .gpu/fm --json > $OUT/fm_collect.json
$FM sweep --collect --out .gpu/fm --exclude esgd --json > $OUT/fm_collect_without_esgd.json
cp -r .gpu/fm $OUT/fm
echo "== total $(( $(date +%s) - T0 )) s"; date -u
