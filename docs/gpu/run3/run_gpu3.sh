#!/bin/bash
# FlatMinima.Torch GPU checks, third pass: final bundle; CIFAR-10 reader + ResNet-18 training on CUDA with GPU memory
# polled across epochs; GM with the replica reference; bf16 training; --device auto.
set -u
L=$OUT/log3.txt
exec > >(tee -a $L) 2>&1
mkdir -p /tmp/app && tar -C /tmp/app -xJf .gpu/app.tar.xz
export FLATMINIMA_LIBTORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__)+"/lib")')
export LD_LIBRARY_PATH=$FLATMINIMA_LIBTORCH:${LD_LIBRARY_PATH:-}
export FLATMINIMA_NO_PROGRESS=1 PYTHONUNBUFFERED=1
FM=/tmp/app/flatminima
echo "== synthetic CIFAR-10 binary batches (random pixels, labels i%10): 5 x 4096 train, 1024 test"
python3 - <<'PY'
import os, numpy as np
os.makedirs("/tmp/cifar", exist_ok=True)
rng = np.random.default_rng(0)
def batch(n, name):
    rec = rng.integers(0, 256, size=(n, 3073), dtype=np.uint8); rec[:, 0] = np.arange(n) % 10
    rec.tofile(f"/tmp/cifar/{name}")
for i in range(1, 6): batch(4096, f"data_batch_{i}.bin")
batch(1024, "test_batch.bin")
PY
for prec in fp32 bf16; do
  echo "== resnet18 cifar10 on cuda, $prec, 4 epochs; GPU memory used (MiB) sampled every 0.5 s"
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 500 > /tmp/mem_$prec.txt &
  P=$!
  $FM train --device cuda --model resnet18 --data cifar10 --data-dir /tmp/cifar --epochs 4 --batch-size 256 --optimizer sgd-flat --lr 0.05 --precision $prec --out /tmp/rn_$prec 2>&1 | grep -v "^[0-9-]\|epoch  "
  kill $P; sleep 1
  echo "memory samples (MiB): $(tr '\n' ' ' < /tmp/mem_$prec.txt)"
  cp /tmp/rn_$prec/metrics.csv $OUT/rn_${prec}_metrics.csv
done
cp /tmp/rn_bf16/manifest.json $OUT/rn_bf16_manifest.json
echo "== gmm on cuda (auto device), N=500 alpha=2, fp32"
$FM train --device auto --data gmm --n 500 --alpha 2 --epochs 30 --lr 0.01 --weight-decay 1e-3 --out /tmp/gm --json 2>/dev/null > $OUT/gm3.json; grep -E '"(device|test_error|test_error_se|epsilon_bo|epsilon_erm_replica|epsilon_erm_note)"' $OUT/gm3.json
echo "== bench default (sgd-flat) fp32+bf16, channels-last"
$FM bench --device cuda --steps 200 --warmup 20 --precision both --channels-last 2>&1 | grep -v "^resnet18 \(fp32\|bf16\):"
echo "== done"
