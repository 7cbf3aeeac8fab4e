// Neurons: PLND importance, language-specific neuron selection, neuron-set files, random baselines.
