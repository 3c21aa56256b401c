"""Tiny GGUF models with random weights, written with the `gguf` package (llama.cpp's own
gguf-py, as its converter writes them).

- :func:`write_tiny_music_flamingo_text`: Music Flamingo's text model as the published GGUF
  is: `qwen2` with a byte-level BPE vocabulary (`tokenizer.ggml.model` gpt2, `pre` qwen2),
  no BOS, a chat template, Q8_0 weights;
- :func:`write_tiny_music_flamingo_mmproj`: its audio projector (`clip`, projector type
  `musicflamingo`), tensors in the converter's dtypes;
- :func:`write_tiny_llama`: a llama-architecture model with a SentencePiece vocabulary, for
  the revision's tests (any GGUF text model llama.cpp loads).

models/README.md lists every key and tensor mirrored and where it comes from.
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


#: ChatML as Qwen2's chat templates write it (the format of Music Flamingo's text model)
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
#: the special tokens of Music Flamingo's tokenizer (Qwen2's, and the audio tokens)
FLAMINGO_SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<sound>",
    "<|sound_bos|>",
    "<|sound_eos|>",
]
#: a few byte-level BPE merges (GPT-2's `Ġ` is a leading space)
MERGES = ["Ġ t", "h e", "Ġt he", "Ġ a", "i n", "Ġ s", "e r", "Ġ c", "o n", "Ġ p", "a n", "Ġ d"]


def byte_alphabet() -> list[str]:
    """GPT-2's byte-to-unicode table, in byte order: the 256 base tokens of a byte-level BPE
    vocabulary (transformers' `bytes_to_unicode`)."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


def write_tiny_music_flamingo_text(
    path: Path,
    *,
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 4,
    n_head_kv: int = 2,
    context_length: int = 32768,
    chat_template: str | None = CHATML_TEMPLATE,
    quantize: bool = True,
    seed: int = 0,
) -> Path:
    """Music Flamingo's text model as the published GGUF holds it, tiny: architecture
    `qwen2` (Qwen2.5's layout: q/k/v biases, grouped-query attention, an untied output),
    a byte-level BPE vocabulary (`tokenizer.ggml.model` gpt2, `tokenizer.ggml.pre` qwen2,
    merges, Qwen2's and the audio special tokens as control tokens), `<|im_end|>` as EOS,
    `tokenizer.ggml.add_bos_token` false, `tokenizer.chat_template` (ChatML; None writes
    none), and Q8_0 weights with F32 norms and biases (`general.file_type` MOSTLY_Q8_0)."""
    import gguf

    rng = np.random.default_rng(seed)
    merged = [m.replace(" ", "") for m in MERGES]
    tokens = byte_alphabet() + merged + FLAMINGO_SPECIALS
    types = [gguf.TokenType.NORMAL] * (256 + len(merged)) + [gguf.TokenType.CONTROL] * len(
        FLAMINGO_SPECIALS
    )
    ids = {t: i for i, t in enumerate(tokens)}
    n_vocab, n_ff = len(tokens), 2 * n_embd
    head_dim = n_embd // n_head

    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_type(gguf.GGUFType.MODEL)
    writer.add_name("tiny-test-music-flamingo-hf")
    writer.add_context_length(context_length)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_freq_base(1_000_000.0)
    writer.add_layer_norm_rms_eps(1e-6)
    file_type = gguf.LlamaFileType.MOSTLY_Q8_0 if quantize else gguf.LlamaFileType.ALL_F32
    writer.add_file_type(file_type)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(MERGES)
    writer.add_eos_token_id(ids["<|im_end|>"])
    writer.add_pad_token_id(ids["<|endoftext|>"])
    writer.add_bos_token_id(ids["<|endoftext|>"])
    writer.add_add_bos_token(False)
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    if quantize:
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)

    def w(*shape):
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    def matrix(name, *shape):
        data = w(*shape)
        if quantize:
            q = gguf.GGMLQuantizationType.Q8_0
            writer.add_tensor(name, gguf.quants.quantize(data, q), raw_dtype=q)
        else:
            writer.add_tensor(name, data)

    matrix("token_embd.weight", n_vocab, n_embd)
    writer.add_tensor("output_norm.weight", np.ones(n_embd, np.float32))
    matrix("output.weight", n_vocab, n_embd)
    for i in range(n_layer):
        blk = f"blk.{i}"
        writer.add_tensor(f"{blk}.attn_norm.weight", np.ones(n_embd, np.float32))
        matrix(f"{blk}.attn_q.weight", n_embd, n_embd)
        writer.add_tensor(f"{blk}.attn_q.bias", w(n_embd))
        matrix(f"{blk}.attn_k.weight", n_head_kv * head_dim, n_embd)
        writer.add_tensor(f"{blk}.attn_k.bias", w(n_head_kv * head_dim))
        matrix(f"{blk}.attn_v.weight", n_head_kv * head_dim, n_embd)
        writer.add_tensor(f"{blk}.attn_v.bias", w(n_head_kv * head_dim))
        matrix(f"{blk}.attn_output.weight", n_embd, n_embd)
        writer.add_tensor(f"{blk}.ffn_norm.weight", np.ones(n_embd, np.float32))
        matrix(f"{blk}.ffn_gate.weight", n_ff, n_embd)
        matrix(f"{blk}.ffn_up.weight", n_ff, n_embd)
        matrix(f"{blk}.ffn_down.weight", n_embd, n_ff)
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
    projector: str = "musicflamingo",
    seed: int = 0,
) -> Path:
    """A tiny random-weight Music Flamingo audio projector as llama.cpp's converter writes
    the published `mmproj-f16` (conversion/ultravox.py, `AudioFlamingo3WhisperEncoderModel`;
    conversion/base.py, `MmprojModel`): `general.architecture` clip, `general.type` mmproj,
    `clip.has_audio_encoder`, `clip.projector_type` musicflamingo, the `clip.audio.*`
    hyperparameters; the Whisper-style encoder (two conv1d layers, learned positions for the
    1500 frames a 30 s window leaves after the stride-2 conv, pre-norm blocks with q/v but
    no k bias, a final layer norm) and the two-layer GELU projector into `n_embd_text`.
    Dtypes as the converter's rules give them: 2-D weights F16 (`general.file_type`
    MOSTLY_F16), conv1d weights F32 (forced for Audio Flamingo 3), biases, norms and the
    position embedding F32.

    mtmd splits audio into 30 s windows of 3000 mel frames, each giving 750 embeddings
    (conv stride 2, then average pooling by 2)."""
    import gguf

    rng = np.random.default_rng(seed)
    n_ff, n_pos = 2 * n_embd, 1500

    writer = gguf.GGUFWriter(str(path), "clip")
    writer.add_type(gguf.GGUFType.MMPROJ)
    writer.add_name("tiny-test-music-flamingo-mmproj")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_clip_has_audio_encoder(True)
    writer.add_audio_projection_dim(n_embd_text)
    writer.add_audio_embedding_length(n_embd)
    writer.add_audio_feed_forward_length(n_ff)
    writer.add_audio_block_count(n_layer)
    writer.add_audio_head_count(n_head)
    writer.add_clip_projector_type(projector)
    writer.add_audio_num_mel_bins(n_mel)
    writer.add_audio_attention_layernorm_eps(1e-5)

    def w(*shape, dtype=np.float16):
        return (rng.standard_normal(shape) * 0.1).astype(dtype)

    def f32(*shape):
        return w(*shape, dtype=np.float32)

    def ones(n):
        return np.ones(n, np.float32)

    def zeros(n):
        return np.zeros(n, np.float32)

    # numpy shapes are the reverse of ggml's: a linear layer is (out, in); a conv1d
    # kernel is (out_channels, in_channels, width), its bias (out_channels, 1)
    writer.add_tensor("a.conv1d.1.weight", f32(n_embd, n_mel, 3))
    writer.add_tensor("a.conv1d.1.bias", f32(n_embd, 1))
    writer.add_tensor("a.conv1d.2.weight", f32(n_embd, n_embd, 3))
    writer.add_tensor("a.conv1d.2.bias", f32(n_embd, 1))
    writer.add_tensor("a.position_embd.weight", f32(n_pos, n_embd))
    for i in range(n_layer):
        blk = f"a.blk.{i}"
        writer.add_tensor(f"{blk}.ln1.weight", ones(n_embd))
        writer.add_tensor(f"{blk}.ln1.bias", zeros(n_embd))
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            writer.add_tensor(f"{blk}.{name}.weight", w(n_embd, n_embd))
        for name in ("attn_q", "attn_v", "attn_out"):  # Whisper's k projection has no bias
            writer.add_tensor(f"{blk}.{name}.bias", f32(n_embd))
        writer.add_tensor(f"{blk}.ln2.weight", ones(n_embd))
        writer.add_tensor(f"{blk}.ln2.bias", zeros(n_embd))
        writer.add_tensor(f"{blk}.ffn_up.weight", w(n_ff, n_embd))
        writer.add_tensor(f"{blk}.ffn_up.bias", f32(n_ff))
        writer.add_tensor(f"{blk}.ffn_down.weight", w(n_embd, n_ff))
        writer.add_tensor(f"{blk}.ffn_down.bias", f32(n_embd))
    writer.add_tensor("a.post_ln.weight", ones(n_embd))
    writer.add_tensor("a.post_ln.bias", zeros(n_embd))
    writer.add_tensor("mm.a.mlp.1.weight", w(n_embd_text, n_embd))
    writer.add_tensor("mm.a.mlp.1.bias", f32(n_embd_text))
    writer.add_tensor("mm.a.mlp.2.weight", w(n_embd_text, n_embd_text))
    writer.add_tensor("mm.a.mlp.2.bias", f32(n_embd_text))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
