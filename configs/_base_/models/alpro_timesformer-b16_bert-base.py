# ALPRO's video-text model (salesforce/ALPRO): TimeSformer-B/16 (divided space-time, 224 px) and BERT-base split into
# 6 text + 6 fusion layers, 256-d VTC projections, itm_head; CLIP's mean/std (config_release/*.json).
# the bert-base-uncased vocabulary, downloaded once through the model zoo (configs/pretrained/metafile.yml)
bert_vocab = 'videoalign://bert-base-uncased/vocab'

model = dict(
    type='AlproRetrieval',
    visual_encoder=dict(type='ALPROTimeSformer', num_frames=8, img_size=224, drop_path_rate=0.1),
    # BERT-base's shape (BertConfig defaults: vocabulary 30522, 768 wide, 12 layers), split at layer 6
    text_encoder=dict(type='ALPROBert', fusion_layer=6),
    tokenizer=dict(type='ALPROTokenizer', vocab=bert_vocab, max_length=40),
    embed_dim=256,
    temperature=0.07,
    vtc_loss=dict(type='VTCLoss'),
    vtm_loss=dict(type='VTMLoss'),
    # 'official': VTM on every (text, video) pair (ALPRO's run_video_retrieval.py); 'lavis': VTC top-k, then VTM
    inference=dict(mode='official', k=256, batch_size=64),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305],
        format_shape='NCTHW'))
