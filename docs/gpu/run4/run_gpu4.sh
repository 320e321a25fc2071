#!/bin/bash
# FlatMinima.Torch GPU checks, fourth pass: final code (FlatSgd keeps channels-last weights); interleaved throughput.
set -u
L=$OUT/log4.txt
exec > >(tee -a $L) 2>&1
mkdir -p /tmp/app && tar -C /tmp/app -xJf .gpu/app.tar.xz
export FLATMINIMA_LIBTORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__)+"/lib")')
export LD_LIBRARY_PATH=$FLATMINIMA_LIBTORCH:${LD_LIBRARY_PATH:-}
export FLATMINIMA_NO_PROGRESS=1 PYTHONUNBUFFERED=1
FM=/tmp/app/flatminima
S="--steps 200 --warmup 20"
J='import json,sys;[print("ts",r["optimizer"],r["precision"],"cl" if r["channels_last"] else "nchw",round(r["images_per_s"])) for r in json.load(sys.stdin)["results"]]'
for rep in 1 2 3; do
  echo "== rep $rep"
  python3 .gpu/torch_resnet18.py $S --modes fp32,fp32cl,bf16,bf16cl --out $OUT/pt4_$rep.json > /dev/null
  $FM bench --device cuda $S --precision both --json 2>/dev/null | python3 -c "$J"
  $FM bench --device cuda $S --precision both --channels-last --out $OUT/ts4_cl_$rep.json --json 2>/dev/null | python3 -c "$J"
done
echo "== done"
