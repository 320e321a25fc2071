#!/bin/bash
# FlatMinima optimisers on the GPU: overhead benchmark, then the Fashion-MNIST/LeNet and GM/MLP sweeps in parallel shards.
set -u
exec > >(tee -a $OUT/log.txt) 2>&1
T0=$(date +%s)
mkdir -p /tmp/app && tar -C /tmp/app -xJf .gpu/optim/app.tar.xz
export FLATMINIMA_LIBTORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__)+"/lib")')
export LD_LIBRARY_PATH=$FLATMINIMA_LIBTORCH:${LD_LIBRARY_PATH:-}
export FLATMINIMA_NO_PROGRESS=1
FM=/tmp/app/flatminima
echo "== machine"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c 'import torch;print("pytorch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())'
nproc; date -u
W=/tmp/sw; mkdir -p $W
echo "== sweeps (background)"
PIDS=""
for k in 0 1 2 3 4 5; do $FM sweep --grid .gpu/optim/fmnist_grid.json --out $W/fm --device cuda --shard $k/6 > $W/fm_$k.log 2>&1 & PIDS="$PIDS $!"; done
for k in 0 1 2; do $FM sweep --grid .gpu/optim/gm_grid.json --out $W/gm --device cuda --shard $k/3 > $W/gm_$k.log 2>&1 & PIDS="$PIDS $!"; done
LIMIT=${SWEEP_LIMIT:-400}
( sleep $LIMIT; echo "watchdog: stopping sweeps after $LIMIT s (the sweep resumes where it stopped)"; kill $PIDS 2>/dev/null ) & WD=$!
echo "== waiting for sweeps"; wait $PIDS; kill $WD 2>/dev/null
echo "sweeps done after $(( $(date +%s) - T0 )) s"
echo "== optim-bench alone"
$FM optim-bench --device cuda --model lenet --batch-size 128 --steps 100 --rounds 5 --out $OUT/bench_lenet.json
$FM optim-bench --device cuda --model resnet18 --batch-size 128 --steps 20 --warmup 5 --rounds 5 --out $OUT/bench_resnet18.json
$FM sweep --collect --out $W/fm --json > $W/fm_collect.json
$FM sweep --collect --out $W/gm --json > $W/gm_collect.json
cd $W && tar -czf $OUT/results.tgz *.log *_collect.json fm/grid.json fm/sweep.csv fm/correlation.* gm/grid.json gm/sweep.csv gm/correlation.* \
  $(ls -d fm/runs/*/metrics.csv fm/runs/*/optim_log.csv fm/runs/*/result.json fm/runs/*/manifest.json gm/runs/*/metrics.csv gm/runs/*/optim_log.csv gm/runs/*/result.json gm/runs/*/manifest.json 2>/dev/null)
echo "== total $(( $(date +%s) - T0 )) s"; date -u
