// Store: the data root, data-set downloads and default model fetching.
