#!/bin/bash
# FlatMinima.Torch GPU checks, second pass: longer, interleaved throughput runs; resume on CUDA; GM on CUDA.
set -u
L=$OUT/log2.txt
exec > >(tee -a $L) 2>&1
mkdir -p /tmp/app && tar -C /tmp/app -xJf .gpu/app.tar.xz
export FLATMINIMA_LIBTORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__)+"/lib")')
export LD_LIBRARY_PATH=$FLATMINIMA_LIBTORCH:${LD_LIBRARY_PATH:-}
export FLATMINIMA_NO_PROGRESS=1 PYTHONUNBUFFERED=1
FM=/tmp/app/flatminima
S="--steps 200 --warmup 20"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
for rep in 1 2 3; do
  echo "== rep $rep"
  python3 .gpu/torch_resnet18.py $S --modes fp32,fp32cl,bf16cl --out $OUT/pt_$rep.json > /dev/null
  $FM bench --device cuda $S --precision fp32 --optimizer sgd --json | python3 -c 'import json,sys;[print("ts",r["optimizer"],r["precision"],r["channels_last"],round(r["images_per_s"])) for r in json.load(sys.stdin)["results"]]'
  $FM bench --device cuda $S --precision both --optimizer sgd-flat --json | python3 -c 'import json,sys;[print("ts",r["optimizer"],r["precision"],r["channels_last"],round(r["images_per_s"])) for r in json.load(sys.stdin)["results"]]'
  $FM bench --device cuda $S --precision both --optimizer sgd-flat --channels-last --out $OUT/ts_cl_$rep.json --json | python3 -c 'import json,sys;[print("ts",r["optimizer"],r["precision"],r["channels_last"],round(r["images_per_s"])) for r in json.load(sys.stdin)["results"]]'
done 2>&1 | grep -v "^resnet18\|torch runtime"
echo "== resume on cuda (2 epochs, then resume to 3) vs straight 3"
$FM train --device cuda --model lenet --data fashion-mnist --data-dir .gpu/fmnist --epochs 2 --out /tmp/fa > /dev/null 2>&1
$FM train --resume /tmp/fa --epochs 3 | tail -2
$FM train --device cuda --model lenet --data fashion-mnist --data-dir .gpu/fmnist --epochs 3 --out /tmp/fb > /dev/null 2>&1
paste -d'|' <(cut -d, -f1-5 /tmp/fa/metrics.csv) <(cut -d, -f1-5 /tmp/fb/metrics.csv)
echo "== gmm mlp on cuda, N=500 alpha=2"
$FM train --device cuda --data gmm --n 500 --alpha 2 --epochs 30 --lr 0.01 --weight-decay 1e-3 --out /tmp/gm --json > $OUT/gm_result.json 2>/dev/null; cat $OUT/gm_result.json | head -30
echo "== done"
