# The README's quick start: a small CLIP-style video-text model trained from scratch on the synthetic dataset, on CPU.
# A tiny 3D ResNet encodes the clip, a tiny CLIP text transformer encodes each class name, and a class scores
# logit_scale * cos(video, text) (TextPromptHead): the trained model scores any free-text label (demo/demo.py).
# The video tower is convolutional because a CLIP ViT trained from scratch learns these order-only classes too slowly
# for a CPU quick start (a tiny AIM-style ViT at 48 px: 0.72 validation top-1 after 32 epochs); CLIP ViTs start from
# CLIP weights in the method configs.
_base_ = ['./r3d-tiny-8f_synthetic.py']

text_arch = dict(embed_dim=64, text=dict(context_length=32, vocab_size=49408, width=64, heads=2, layers=2))
model = dict(
    type='VideoRecognizer',  # the 3D ResNet backbone and the data preprocessor are the base config's
    neck=dict(type='PoolProjection', in_channels=128, embed_dims=64, dropout=0.2),
    cls_head=dict(
        _delete_=True,
        type='TextPromptHead',
        in_channels=64,  # the class names come from the dataset (its class_names)
        text_encoder=dict(type='CLIPTextEncoder', arch=text_arch),
        # the bare class name: a text tower trained from scratch starts with the ten names far less alike (mean
        # cosine 0.64) than inside a shared template such as 'a video of a person {}.' (0.89), and learns faster
        templates='bare',
        freeze_text=False,  # trained from scratch with the video tower (at a tenth of the lr, see optim_wrapper)
        freeze_logit_scale=False,
        average_clips='prob'))

optim_wrapper = dict(
    constructor='MultiplierOptimWrapperConstructor',
    paramwise_cfg=dict(lr_mult={'cls_head.text_encoder': 0.1}, no_decay_1d=True))
