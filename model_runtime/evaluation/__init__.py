"""Evaluation: an STGCN recognizer trained on raw data, the paper's metrics and its protocol.

``graph``      the SMPL-X joint graph and its ST-GCN spatial partition
``inputs``     pose clips -> fixed-length 6D rotation tensors
``stgcn``      the recognizer network and its config
``recognizer`` training, saving and loading the recognizer; features = penultimate activations
``metrics``    accuracy, FID, diversity, multimodality, confidence intervals (pure functions)
``protocol``   Raw / Rec / Gen groups on train and test, over several seeds
``report``     report.json, report.md (Table I / Table II shapes) and the plot
``ablation``   curriculum and quality-control ablations
``cli``        ``python -m model_runtime evaluate``
"""
