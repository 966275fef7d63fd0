"""Efficient-Prompt's prompt layout (efficient_prompt.md §2.2): absolute-position rows around the class-name tokens."""
import pytest
import torch
import torch.nn as nn

from videoalign.models.text import CLIPTextEncoder, CLIPTokenizer, LearnablePrompt

SOT, EOT = 49406, 49407
L, WIDTH, PREFIX, POSTFIX = 12, 4, 2, 3


def marked_modules():
    """A prompt whose row p is the constant -(p + 1), and a token embedding whose row i is the constant i."""
    prompt = LearnablePrompt(prefix=PREFIX, postfix=POSTFIX, context_length=L, width=WIDTH)
    with torch.no_grad():
        prompt.embedding.weight.copy_(-(torch.arange(L, dtype=torch.float) + 1).unsqueeze(1).expand(L, WIDTH))
    token_embedding = nn.Embedding(EOT + 1, WIDTH)
    with torch.no_grad():
        token_embedding.weight.copy_(torch.arange(EOT + 1, dtype=torch.float).unsqueeze(1).expand(-1, WIDTH))
    return prompt, token_embedding


def tokens_of(*rows):
    """Token-id rows padded with zeros to L."""
    out = torch.zeros(len(rows), L, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, :len(row)] = torch.tensor(row)
    return out


def decode(embeds):
    """Each position as ('tok', id) or ('row', p), read back from the marked embeddings."""
    values = embeds[..., 0].tolist()
    return [[('tok', int(v)) if v >= 0 else ('row', int(-v) - 1) for v in seq] for seq in values]


def test_layout_of_two_class_names_of_different_lengths():
    prompt, token_embedding = marked_modules()
    # class A: two name tokens (EOT at ind 3); class B: one name token (EOT at ind 2)
    tokens = tokens_of([SOT, 10, 11, EOT], [SOT, 20, EOT])
    embeds, eot = prompt(tokens, token_embedding)
    assert embeds.shape == (2, L, WIDTH)
    expected_a = ([('tok', SOT)] + [('row', 1), ('row', 2)]  # SOT, prefix rows 1..2
                  + [('tok', 10), ('tok', 11)]  # name at positions 3..4
                  + [('row', 5), ('row', 6), ('row', 7)]  # postfix: rows 5..7 (prefix + ind = 5)
                  + [('tok', EOT)]  # EOT at 2 + 3 + 3 = 8
                  + [('row', 9), ('row', 10), ('row', 11)])  # after EOT
    expected_b = ([('tok', SOT)] + [('row', 1), ('row', 2)] + [('tok', 20)] +
                  [('row', 4), ('row', 5), ('row', 6)]  # the postfix rows shift with the name length
                  + [('tok', EOT)]  # EOT at 2 + 2 + 3 = 7
                  + [('row', p) for p in range(8, L)])
    assert decode(embeds) == [expected_a, expected_b]
    assert eot.tolist() == [8, 7]


def test_layout_with_real_tokens_matches_the_official_loop():
    """The official replace_text_embedding, written as the in-place loop it is, gives the same sequences."""
    tokenizer = CLIPTokenizer()
    names = ['brush hair', 'ride a horse at full gallop']
    tokens = tokenizer(names, context_length=77)
    prompt = LearnablePrompt(prefix=16, postfix=16, context_length=77, width=8)
    token_embedding = nn.Embedding(EOT + 1, 8)
    embeds, eot = prompt(tokens, token_embedding, names)

    word = token_embedding(tokens)
    expected = prompt.embedding(torch.arange(77)).unsqueeze(0).repeat(len(names), 1, 1)
    prompt_tokens = torch.zeros(len(names), 77, dtype=torch.long)
    for i in range(len(names)):
        ind = int(tokens[i].argmax())
        expected[i, 0] = word[i, 0]
        expected[i, 16 + 1:16 + ind] = word[i, 1:ind]
        expected[i, 16 + ind + 16] = word[i, ind]
        prompt_tokens[i, 0] = tokens[i, 0]
        prompt_tokens[i, 16 + 1:16 + ind] = tokens[i, 1:ind]
        prompt_tokens[i, 16 + ind + 16] = tokens[i, ind]
    assert torch.equal(embeds, expected)
    assert torch.equal(eot, prompt_tokens.argmax(dim=-1))  # where CLIP's argmax finds the moved EOT
    assert eot.tolist() == [int(tokens[i].argmax()) + 32 for i in range(2)]


def test_too_long_class_name_is_named():
    prompt, token_embedding = marked_modules()
    # L = 12 holds 1 + 2 + k + 3 + 1 tokens: k = 5 name tokens fit, 6 do not
    fits = tokens_of([SOT, 1, 2, 3, 4, 5, EOT])
    assert prompt(fits, token_embedding)[1].tolist() == [11]
    too_long = tokens_of([SOT, 20, EOT], [SOT, 1, 2, 3, 4, 5, 6, EOT])
    with pytest.raises(ValueError, match=r"class 'a very long name' .*6 name tokens.* = 13 tokens.* 12"):
        prompt(too_long, token_embedding, ['short', 'a very long name'])
    with pytest.raises(ValueError, match='row 1'):
        prompt.eot_indices(too_long)
    with pytest.raises(ValueError, match='no EOT'):
        prompt.eot_indices(torch.zeros(1, L, dtype=torch.long))
    with pytest.raises(ValueError, match=r'shape \(K, 12\)'):
        prompt.eot_indices(torch.zeros(1, 77, dtype=torch.long))
    with pytest.raises(ValueError, match='no room'):
        LearnablePrompt(prefix=5, postfix=5, context_length=12)


def test_init_and_gradients_through_the_causal_text_encoder():
    torch.manual_seed(0)
    prompt = LearnablePrompt(prefix=4, postfix=4)
    assert prompt.embedding.weight.shape == (77, 512)
    assert abs(prompt.embedding.weight.std().item() - 0.01) < 1e-3
    assert sum(p.numel() for p in prompt.parameters()) == 39424

    encoder = CLIPTextEncoder('tiny').requires_grad_(False)
    prompt = LearnablePrompt(prefix=4, postfix=4, width=encoder.width)
    tokens = CLIPTokenizer()(['cartwheel', 'shoot a bow'])
    embeds, eot = prompt(tokens, encoder.token_embedding)
    encoder.forward_embeddings(embeds, eot).sum().backward()
    grad = prompt.embedding.weight.grad.abs().sum(dim=1)
    last_eot = int(eot.max())
    assert grad[0] == 0  # always SOT
    assert (grad[1:5] > 0).all()  # the prefix rows
    assert (grad[last_eot + 1:] == 0).all()  # after EOT: masked by the causal mask
    assert (grad[int(eot.min()) - 4:int(eot.min())] > 0).all()  # the postfix rows of the shorter name
