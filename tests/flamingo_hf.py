"""A tiny Music Flamingo for Hugging Face transformers: the real architecture
(`MusicFlamingoForConditionalGeneration`: Audio Flamingo 3 encoder + Qwen2) with random
weights, a byte-level tokenizer holding the model's special tokens, a Whisper feature
extractor and a ChatML chat template, saved as a local model folder."""

from __future__ import annotations

from pathlib import Path

SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<sound>",
    "<|sound_bos|>",
    "<|sound_eos|>",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}"
    "{% for c in m['content'] %}{% if c['type'] == 'audio' %}<sound>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}"
    "{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def write_tiny_music_flamingo(folder: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        MusicFlamingoConfig,
        MusicFlamingoForConditionalGeneration,
        MusicFlamingoProcessor,
        PreTrainedTokenizerFast,
        WhisperFeatureExtractor,
    )

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {ch: i for i, ch in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    for token in SPECIALS:
        vocab[token] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIALS[1:],
    )
    features = WhisperFeatureExtractor(
        feature_size=128, sampling_rate=16000, chunk_length=30, hop_length=160, n_fft=400
    )
    processor = MusicFlamingoProcessor(features, tokenizer, chat_template=CHAT_TEMPLATE)
    config = MusicFlamingoConfig(
        audio_config={
            "model_type": "audioflamingo3_encoder",
            "num_mel_bins": 128,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 32,
            "hidden_size": 16,
        },
        text_config={
            "model_type": "qwen2",
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
        },
        audio_token_id=vocab["<sound>"],
        audio_bos_token_id=vocab["<|sound_bos|>"],
        audio_eos_token_id=vocab["<|sound_eos|>"],
    )
    MusicFlamingoForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
