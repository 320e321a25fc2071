#!/bin/bash
# FlatMinima.Torch GPU checks. Run from the repository root on the device machine.
set -u
L=$OUT/log.txt
exec > >(tee -a $L) 2>&1
mkdir -p /tmp/app && tar -C /tmp/app -xJf .gpu/app.tar.xz
export FLATMINIMA_LIBTORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__)+"/lib")')
export LD_LIBRARY_PATH=$FLATMINIMA_LIBTORCH:${LD_LIBRARY_PATH:-}
export FLATMINIMA_NO_PROGRESS=1 PYTHONUNBUFFERED=1
FM=/tmp/app/flatminima
echo "== machine"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c 'import torch;print(torch.__version__, torch.version.cuda, torch.backends.cudnn.version())'; uname -r
echo "== pytorch eager (1)"; python3 .gpu/torch_resnet18.py --out $OUT/pytorch.json > /dev/null
echo "== torchsharp fp32/bf16 sgd"; $FM bench --device cuda --precision both --out $OUT/bench_sgd.json
echo "== torchsharp sgd-flat"; $FM bench --device cuda --precision both --optimizer sgd-flat --out $OUT/bench_flat.json
echo "== torchsharp channels-last"; $FM bench --device cuda --precision both --optimizer sgd-flat --channels-last --out $OUT/bench_cl.json
echo "== torchsharp sync each step"; $FM bench --device cuda --optimizer sgd-flat --sync-each-step
echo "== pytorch eager (2)"; python3 .gpu/torch_resnet18.py --modes fp32,bf16cl > /dev/null
echo "== pytorch eager cudnn.benchmark"; python3 .gpu/torch_resnet18.py --modes fp32,bf16cl --cudnn-benchmark > /dev/null
echo "== fashion-mnist lenet on cuda"; $FM train --device cuda --model lenet --data fashion-mnist --data-dir .gpu/fmnist --epochs 5 --batch-size 128 --lr 0.05 --out /tmp/fm
cp /tmp/fm/manifest.json $OUT/fm_manifest.json; cp /tmp/fm/metrics.csv $OUT/fm_metrics.csv
echo "== resume on cuda"; $FM train --resume /tmp/fm --epochs 6 --device cuda | tail -2
echo "== flatness on cuda"; $FM flatness --run /tmp/fm --device cuda --draws 20 --sigma 0,0.02,0.05,0.1 --samples 2000 --top-k 2 --trace-samples 10 --sharpness-steps 5 --json > $OUT/fm_flatness.json
echo "== gmm mlp on cuda"; $FM train --device cuda --data gmm --n 200 --alpha 3 --epochs 20 --out /tmp/gm | tail -3
echo "== done"
