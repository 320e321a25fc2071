#!/bin/bash
# Sourced by the GPU scripts still to run: unpacks the published app (first argument, a .tar.xz of
# `dotnet publish ... --self-contained` without the CPU libtorch) into /tmp/app, points TorchSharp at the machine's
# PyTorch libtorch, sets FM to the CLI and prints the GPU and library versions for the log.
# (docs/gpu/run*/ and docs/optim/run_gpu*.sh are the records of earlier calls and keep their own copy.)
mkdir -p /tmp/app && tar -C /tmp/app -xJf "$1"
export FLATMINIMA_LIBTORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__)+"/lib")')
export LD_LIBRARY_PATH=$FLATMINIMA_LIBTORCH:${LD_LIBRARY_PATH:-}
export FLATMINIMA_NO_PROGRESS=1
FM=/tmp/app/flatminima
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c 'import torch;print("pytorch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())'
