#!/usr/bin/env bash
# Every RAM checkpoint shipped in data/ram, in the order they were trained (two queues, one thread each, so a
# 2-core machine runs both at once). Each line is resumable: cut it and run it again to continue.
# Wall time on a 2-core CPU: about 50 minutes per queue. Usage: bash tools/train_ram_all.sh [a|b]
set -euo pipefail
cd "$(dirname "$0")/.."
run() { PYTHONPATH=. "${PYTHON:-.venv/bin/python}" tools/train_ram.py "$@" --lr 1e-3 --threads 1 --register; }
queue_a() {
    run translated --policy learned --seed 0 --epochs 400
    run translated_2scales --policy learned --seed 0 --epochs 150
    run translated_2scales --policy centre --seed 0 --epochs 150
    run translated_2scales --policy learned --seed 1 --epochs 150
    run translated_2scales --policy centre --seed 1 --epochs 150
    run translated_2scales --policy random --seed 2 --epochs 150
    run translated --model convnet --seed 0 --epochs 40
}
queue_b() {
    run cluttered --policy learned --seed 0 --epochs 400
    run translated_2scales --policy random --seed 0 --epochs 150
    run translated_2scales --policy random --seed 1 --epochs 150
    run translated_2scales --policy learned --seed 2 --epochs 150
    run translated_2scales --policy centre --seed 2 --epochs 150
    run cluttered --model convnet --seed 0 --epochs 40
    run mnist28 --policy learned --seed 0 --epochs 150
}
case "${1:-both}" in
    a) queue_a ;;
    b) queue_b ;;
    *) queue_a & queue_b; wait ;;
esac
