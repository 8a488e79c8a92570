/// ModelKit: the neural-network engine (matrices, layers, losses, optimizers, trainer, metrics).
