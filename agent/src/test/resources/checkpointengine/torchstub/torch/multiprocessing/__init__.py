from torch.multiprocessing import reductions  # noqa: F401
