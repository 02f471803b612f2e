"""Builds a small causal LM from a config (no download) with seed 1, saves its weights as safetensors and the
logits of a fixed prompt as the reference. Usage: make_model.py OUT_DIR; prints the config JSON."""
import json
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoConfig, AutoModelForCausalLM

CONFIG = {"model_type": "llama", "hidden_size": 512, "intermediate_size": 1408, "num_hidden_layers": 4,
          "num_attention_heads": 8, "num_key_value_heads": 4, "vocab_size": 8192, "max_position_embeddings": 512,
          "tie_word_embeddings": False}


def main():
    out = sys.argv[1]
    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model(**CONFIG)).to(torch.bfloat16).to("cuda").eval()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{out}/model.safetensors")
    input_ids = torch.randint(0, CONFIG["vocab_size"], (2, 64), device="cuda")
    with torch.no_grad():
        logits = model(input_ids).logits
    torch.save({"input_ids": input_ids, "logits": logits}, f"{out}/reference.pt")
    print(json.dumps(CONFIG))


if __name__ == "__main__":
    main()
