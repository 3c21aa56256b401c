"""A tiny llama-architecture GGUF with random weights, written with the `gguf` package.

Its SentencePiece vocabulary holds the three control tokens, all 256 byte tokens (so any
text can be tokenised) and a few word pieces. llama.cpp loads it like any other model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PIECES = ["▁", "▁a", "▁the", "▁slow", "▁calm", "▁piano", "▁drums", "e", "t", "a", "o", "n"]


def write_tiny_llama(path: Path, *, n_embd: int = 64, n_layer: int = 2, seed: int = 0) -> Path:
    import gguf

    rng = np.random.default_rng(seed)
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + PIECES
    types = (
        [
            gguf.TokenType.UNKNOWN,
            gguf.TokenType.CONTROL,
            gguf.TokenType.CONTROL,
        ]
        + [gguf.TokenType.BYTE] * 256
        + [gguf.TokenType.NORMAL] * len(PIECES)
    )
    scores = [0.0] * 259 + [-float(i) for i in range(len(PIECES))]
    n_vocab, n_head, n_ff = len(tokens), 4, 2 * n_embd

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-test-llama")
    writer.add_context_length(512)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)

    def w(*shape):
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    writer.add_tensor("token_embd.weight", w(n_vocab, n_embd))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, np.float32))
    writer.add_tensor("output.weight", w(n_vocab, n_embd))
    for i in range(n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"blk.{i}.{name}.weight", w(n_embd, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", w(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", w(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", w(n_embd, n_ff))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_tiny_music_flamingo_mmproj(
    path: Path,
    *,
    n_embd_text: int = 64,
    n_embd: int = 32,
    n_layer: int = 1,
    n_head: int = 2,
    n_mel: int = 128,
    seed: int = 0,
) -> Path:
    """A tiny random-weight Music Flamingo audio projector (`musicflamingo`) llama.cpp's
    mtmd loads: the Whisper-style encoder (two conv1d layers, learned positions for the
    1500 frames a 30 s window leaves after the stride-2 conv, pre-norm blocks with q/v but
    no k bias, a final layer norm) and the two-layer GELU projector into `n_embd_text`.

    mtmd splits audio into 30 s windows of 3000 mel frames, each giving 750 embeddings
    (conv stride 2, then average pooling by 2)."""
    import gguf

    rng = np.random.default_rng(seed)
    n_ff, n_pos = 2 * n_embd, 1500

    writer = gguf.GGUFWriter(str(path), "clip")
    writer.add_name("tiny-test-music-flamingo-mmproj")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_clip_has_audio_encoder(True)
    writer.add_clip_projector_type(gguf.VisionProjectorType.MUSIC_FLAMINGO)
    writer.add_audio_embedding_length(n_embd)
    writer.add_audio_feed_forward_length(n_ff)
    writer.add_audio_block_count(n_layer)
    writer.add_audio_head_count(n_head)
    writer.add_audio_attention_layernorm_eps(1e-5)
    writer.add_audio_projection_dim(n_embd_text)
    writer.add_audio_num_mel_bins(n_mel)

    def w(*shape, dtype=np.float32):
        return (rng.standard_normal(shape) * 0.1).astype(dtype)

    def ones(n):
        return np.ones(n, np.float32)

    def zeros(n):
        return np.zeros(n, np.float32)

    # numpy shapes are the reverse of ggml's: a linear layer is (out, in); a conv1d
    # kernel is (out_channels, in_channels, width), its bias (out_channels, 1)
    writer.add_tensor("a.conv1d.1.weight", w(n_embd, n_mel, 3, dtype=np.float16))
    writer.add_tensor("a.conv1d.1.bias", w(n_embd, 1))
    writer.add_tensor("a.conv1d.2.weight", w(n_embd, n_embd, 3, dtype=np.float16))
    writer.add_tensor("a.conv1d.2.bias", w(n_embd, 1))
    writer.add_tensor("a.position_embd.weight", w(n_pos, n_embd))
    for i in range(n_layer):
        blk = f"a.blk.{i}"
        writer.add_tensor(f"{blk}.ln1.weight", ones(n_embd))
        writer.add_tensor(f"{blk}.ln1.bias", zeros(n_embd))
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            writer.add_tensor(f"{blk}.{name}.weight", w(n_embd, n_embd))
        for name in ("attn_q", "attn_v", "attn_out"):  # Whisper's k projection has no bias
            writer.add_tensor(f"{blk}.{name}.bias", w(n_embd))
        writer.add_tensor(f"{blk}.ln2.weight", ones(n_embd))
        writer.add_tensor(f"{blk}.ln2.bias", zeros(n_embd))
        writer.add_tensor(f"{blk}.ffn_up.weight", w(n_ff, n_embd))
        writer.add_tensor(f"{blk}.ffn_up.bias", w(n_ff))
        writer.add_tensor(f"{blk}.ffn_down.weight", w(n_embd, n_ff))
        writer.add_tensor(f"{blk}.ffn_down.bias", w(n_embd))
    writer.add_tensor("a.post_ln.weight", ones(n_embd))
    writer.add_tensor("a.post_ln.bias", zeros(n_embd))
    writer.add_tensor("mm.a.mlp.1.weight", w(n_embd_text, n_embd))
    writer.add_tensor("mm.a.mlp.1.bias", w(n_embd_text))
    writer.add_tensor("mm.a.mlp.2.weight", w(n_embd_text, n_embd_text))
    writer.add_tensor("mm.a.mlp.2.bias", w(n_embd_text))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
