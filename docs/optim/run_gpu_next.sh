#!/bin/bash
# The GPU measurements not yet run: the overhead benchmark of the flat-buffer optimisers (LeNet, ResNet-18) and the
# full-scale Fashion-MNIST/LeNet sweep (docs/optim/fmnist_grid.json, 21 runs incl. eSGD at 5x budget), in one process.
# Run from the repository root on the GPU machine with OUT set to a results folder. Needs there: .gpu/optim/app.tar.xz
# (a self-contained publish of src/FlatMinima.Cli without the CPU libtorch), the Fashion-MNIST files in .gpu/fmnist/,
# and, to continue a stopped sweep, its folder as .gpu/fm: the sweep resumes where it stopped (LIMIT seconds per call).
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
