# The parts of the tiny ALPRO models trained on CPU (configs/alpro/timesformer-micro-bert-micro_synthetic-*.py): a
# 2-layer TimeSformer (64 px frames, 16 px patches) and a 2 + 2-layer BERT, both 96 wide, on the synthetic set's
# vocabulary; a config sets the number of frames: dict(micro_visual_encoder, num_frames=num_frames).
micro_visual_encoder = dict(
    type='ALPROTimeSformer',
    img_size=64,
    patch_size=16,
    embed_dims=96,
    num_heads=4,
    num_transformer_layers=2,
    drop_path_rate=0.)
micro_text_encoder = dict(
    type='ALPROBert',
    config=dict(
        vocab_size=128,  # data/synthetic/vocab.txt has 99 word pieces
        hidden_size=96,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=4 * 96,
        max_position_embeddings=64),
    fusion_layer=2)
micro_tokenizer = dict(type='ALPROTokenizer', vocab='data/synthetic/vocab.txt', max_length=16)
# ALPRO's CLIP mean and std on the 0-255 scale
micro_normalisation = dict(
    type='ActionDataPreprocessor',
    mean=[122.7709383, 116.7460125, 104.09373615],
    std=[68.5005327, 66.6321579, 70.32316305],
    format_shape='NCTHW')
