#!/bin/bash
# Second pass: eSGD CUDA-generator fix; overhead benchmark; GM eSGD runs; Fashion-MNIST (20k images, 8 epochs) in ONE
# process (the first pass ran 9 processes at once and each was ~25x slower: GPU time-slicing between contexts).
set -u
exec > >(tee -a $OUT/log2.txt) 2>&1
T0=$(date +%s)
mkdir -p /tmp/app && tar -C /tmp/app -xJf .gpu/optim/app.tar.xz
export FLATMINIMA_LIBTORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__)+"/lib")')
export LD_LIBRARY_PATH=$FLATMINIMA_LIBTORCH:${LD_LIBRARY_PATH:-}
export FLATMINIMA_NO_PROGRESS=1
FM=/tmp/app/flatminima
W=/tmp/sw; mkdir -p $W
echo "== optim-bench"
$FM optim-bench --device cuda --model lenet --batch-size 128 --steps 50 --rounds 3 --out $OUT/bench_lenet.json
$FM optim-bench --device cuda --model resnet18 --batch-size 128 --steps 10 --warmup 3 --rounds 3 --out $OUT/bench_resnet18.json
echo "bench done after $(( $(date +%s) - T0 )) s"
echo "== GM eSGD"
$FM sweep --grid .gpu/optim/gm_esgd_grid.json --out $W/gm_esgd --device cuda > $W/gm_esgd.log 2>&1
echo "gm done after $(( $(date +%s) - T0 )) s"
echo "== Fashion-MNIST small"
$FM sweep --grid .gpu/optim/fmnist_small_grid.json --out $W/fms --device cuda > $W/fms.log 2>&1 & P=$!
( sleep ${LIMIT:-200}; echo "watchdog: stopping"; kill $P 2>/dev/null ) & WD=$!
wait $P; kill $WD 2>/dev/null
echo "fm done after $(( $(date +%s) - T0 )) s"
$FM sweep --collect --out $W/fms --json > $W/fms_collect.json
cd $W && tar -czf $OUT/results2.tgz *.log *_collect.json $(ls -d gm_esgd/grid.json gm_esgd/sweep.csv gm_esgd/runs/*/metrics.csv gm_esgd/runs/*/optim_log.csv gm_esgd/runs/*/result.json gm_esgd/runs/*/manifest.json fms/grid.json fms/sweep.csv fms/correlation.* fms/runs/*/metrics.csv fms/runs/*/optim_log.csv fms/runs/*/result.json fms/runs/*/manifest.json 2>/dev/null)
echo "== total $(( $(date +%s) - T0 )) s"; date -u
