#!/usr/bin/env bash
# One short GPU session: everything the scaling docs need measured on a CUDA machine.
#
#   bash benchmarks/gpu_session.sh            # from the repository root; writes under $OUT
#
# Steps (each under a hard `timeout`; the limits add up to 470 s, under 8 minutes):
#   1. environment: GPU, torch, CUDA, cores                                    (40 s)
#   2. the DataLoader engine on CUDA gives the bits of the joblib engine (the
#      default; same batches); transform with n_jobs=-1 through the DataLoader
#      engine matches n_jobs=1 up to float32 rounding; bf16 difference         (60 s)
#   3. the SIMULATED paper-scale graph (benchmarks/context_graph.py --out), at
#      SCALE (default 0.25 of the paper's node counts), unless GRAPH_DIR holds one  (120 s)
#   4. benchmarks/feed.py on CUDA: bare forward vs transform (n_jobs=1, -1),
#      both featurise-ahead engines, fp32 and bf16, pretraining epoch per precision (170 s)
#   5. benchmarks/ddp_pretrain.py --nproc 1, if that script exists              (80 s)
# A step that fails or times out is recorded (its exit status in $OUT/steps.tsv) and the
# next one runs. Environment: OUT (default ./gpu_session_out), PYTHON (default python),
# SCALE, GRAPH_DIR, MOLECULES (feed.py's --molecules, default 50000), DEVICE (default cuda;
# DEVICE=cpu SCALE=0.01 MOLECULES=600 tries the plumbing on a CPU machine).
set -u
OUT=${OUT:-$PWD/gpu_session_out}
PYTHON=${PYTHON:-python}
SCALE=${SCALE:-0.25}
GRAPH_DIR=${GRAPH_DIR:-$OUT/graph_x$SCALE}
MOLECULES=${MOLECULES:-50000}
DEVICE=${DEVICE:-cuda}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
: > "$OUT/steps.tsv"

step() {  # step NAME SECONDS COMMAND...: run under timeout, log to $OUT/NAME.log
    local name=$1 limit=$2
    shift 2
    local start=$SECONDS
    echo "== $name (limit ${limit}s): $*"
    timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    printf '%s\t%s\t%ss\n' "$name" "$rc" "$((SECONDS - start))" | tee -a "$OUT/steps.tsv"
    tail -n 25 "$OUT/$name.log"
}

step 1_environment 40 bash -c "nvidia-smi; nproc; free -g; $PYTHON -c 'import torch, rdkit, torch_geometric; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else \"\"); print(\"bf16 supported\", torch.cuda.is_available() and torch.cuda.is_bf16_supported()); print(\"rdkit\", rdkit.__version__, \"pyg\", torch_geometric.__version__)'"

step 2_cuda_equivalence 60 "$PYTHON" - <<'EOF'
import numpy as np, torch
from infoalign_sklearn import InfoAlignEmbedder, make_synthetic_context
from benchmarks.feed import read_smiles, representation_difference
if not torch.cuda.is_available():
    raise SystemExit("no CUDA device: step skipped")
smiles = read_smiles(3000) + ["not a smiles"]
ctx = make_synthetic_context(n_molecules=200, random_state=0)
emb = InfoAlignEmbedder(ctx.graph, max_epochs=1, device="cuda", errors="nan", random_state=0).fit()
dev = torch.device("cuda")
def pipeline(engine):
    emb._feed_engine = engine
    chunks = list(emb._encoded_here(smiles, emb.module_.encoder, dev, 4))  # 12 chunks >= 2 x 4 workers: DataLoader
    return np.concatenate([e for _, e, ok in chunks if ok.any()])
a, b = pipeline("dataloader"), pipeline("joblib")
print("dataloader == joblib engine (same batches), bit for bit:", np.array_equal(a, b))
emb._feed_engine = "dataloader"
z1 = emb.set_params(n_jobs=1).transform(smiles)
zp = emb.set_params(n_jobs=-1).transform(smiles)
print("NaN rows equal:", np.array_equal(np.isnan(z1), np.isnan(zp)), "last row NaN:", np.isnan(zp[-1]).all())
print("n_jobs=-1 vs n_jobs=1 max abs diff", float(np.nanmax(np.abs(zp - z1))), "of max", float(np.nanmax(np.abs(z1))))
z16 = emb.set_params(precision="bfloat16").transform(smiles)
print("bf16 dtype", z16.dtype, representation_difference(z1[:-1], z16[:-1]))
EOF

if [ -d "$GRAPH_DIR" ]; then  # graphs are saved atomically: a directory is a whole graph
    echo "== 3_graph: reusing $GRAPH_DIR"
else
    step 3_graph 120 "$PYTHON" benchmarks/context_graph.py --scale "$SCALE" --repeats 2 --out "$GRAPH_DIR"
fi

step 4_feed 170 "$PYTHON" benchmarks/feed.py --device "$DEVICE" --molecules "$MOLECULES" --repeats 2 \
    --engines --pretrain --json "$OUT/feed_cuda.json"

if [ -f benchmarks/ddp_pretrain.py ]; then
    if "$PYTHON" benchmarks/ddp_pretrain.py --help 2>/dev/null | grep -q -- "--graph"; then
        step 5_ddp_pretrain 80 "$PYTHON" benchmarks/ddp_pretrain.py --nproc 1 --graph "$GRAPH_DIR"
    else
        step 5_ddp_pretrain 80 "$PYTHON" benchmarks/ddp_pretrain.py --nproc 1
    fi
else
    echo "== 5_ddp_pretrain: benchmarks/ddp_pretrain.py not in this tree, skipped"
fi
echo "== done; logs and feed_cuda.json in $OUT"
cat "$OUT/steps.tsv"
