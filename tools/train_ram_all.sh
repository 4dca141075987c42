#!/usr/bin/env bash
# Every RAM checkpoint shipped in data/ram, in two queues (one thread each, so a 2-core machine runs both at once).
# Each line is resumable: cut it and run it again to continue. Usage: bash tools/train_ram_all.sh [a|b|paper]
#   a, b:  the headline setting (translated_2scales_t3: a 12/24 retina, 3 glimpses) — learned RAM and its centre and
#          random controls, 3 seeds each — and the clutter comparison (cluttered_2scales_t3 RAM against a convnet of
#          similar size); about 45 minutes per queue on a 2-core CPU.
#   paper: the paper's own settings (3 scales, 6 glimpses; 28×28 MNIST), trained before the headline existed.
# The recipe levers behind the headline's recipe: PYTHONPATH=. python tools/ram_levers.py --register
set -euo pipefail
cd "$(dirname "$0")/.."
run() { PYTHONPATH=. "${PYTHON:-.venv/bin/python}" tools/train_ram.py "$@" --lr 1e-3 --threads 1 --register; }
headline() { run translated_2scales_t3 --epochs 400 --reinforce-core yes "$@"; }
clutter() { run cluttered_2scales_t3 --epochs 400 --reinforce-core yes "$@"; }
queue_a() {
    headline --policy learned --seed 0
    headline --policy learned --seed 1
    headline --policy learned --seed 2
    clutter --policy learned --seed 0
    headline --policy centre --seed 2
    headline --policy random --seed 2
    clutter --policy learned --seed 1
}
queue_b() {
    headline --policy centre --seed 0
    headline --policy random --seed 0
    headline --policy centre --seed 1
    headline --policy random --seed 1
    run cluttered_2scales_t3 --model convnet --width 64 --seed 0 --epochs 40
    clutter --policy learned --seed 2
}
paper() {
    run translated --policy learned --seed 0 --epochs 400
    run cluttered --policy learned --seed 0 --epochs 400
    run translated --model convnet --seed 0 --epochs 40
    run cluttered --model convnet --seed 0 --epochs 40
    run mnist28 --policy learned --seed 0 --epochs 150
}
case "${1:-both}" in
    a) queue_a ;;
    b) queue_b ;;
    paper) paper ;;
    *) queue_a & queue_b; wait ;;
esac
