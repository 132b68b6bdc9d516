"""Training building segmentation models from imagery and a past survey's footprints.

* :mod:`.unet` — the compact U-Net (pure JAX functions over a parameter dict);
* :mod:`.pretrained` — EfficientNet-Lite0's ImageNet weights (read without PyTorch) as
  the encoder for RGB imagery;
* :mod:`.onnx_export` — the same network written as an ONNX graph by hand;
* :mod:`.samples` — training rasters: labels, the ignored band around label edges,
  the held-back validation blocks, augmented patches (pure numpy);
* :mod:`.data` — the image window of the training area and its burnt-in footprints;
* :mod:`.validation` — pixel and object scores of the validation stripe;
* :mod:`.train` — the tool: fit, validate, stop early, write the model and its card.

JAX is imported only inside these modules' functions, so the rest of mujun does
not pay for it.
"""
