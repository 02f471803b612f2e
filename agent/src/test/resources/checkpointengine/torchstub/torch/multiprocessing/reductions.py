"""rebuild_cuda_tensor with torch's signature; checks its arguments the way torch's C++ side does."""

import torch


class SharedBuffer:
    """What the real function returns: a flat uint8 tensor over the shared allocation (here: its description)."""

    def __init__(self, size, dtype, device, handle):
        self.size = size
        self.dtype = dtype
        self.device = device
        self.handle = handle


def rebuild_cuda_tensor(tensor_cls, tensor_size, tensor_stride, tensor_offset, storage_cls, dtype,
                        storage_device, storage_handle, storage_size_bytes, storage_offset_bytes,
                        requires_grad, ref_counter_handle, ref_counter_offset, event_handle,
                        event_sync_required):
    assert tensor_cls is torch.Tensor, tensor_cls
    assert type(tensor_size) is torch.Size and len(tensor_size) == 1, tensor_size
    assert type(tensor_stride) is tuple and tensor_stride == (1,), tensor_stride
    assert tensor_offset == 0, tensor_offset
    assert storage_cls is torch.storage.TypedStorage, storage_cls
    assert dtype is torch.uint8, dtype
    # UntypedStorage._new_shared_cuda: (int device, bytes handle, int storage_size_bytes,
    # int storage_offset_bytes, bytes _ref_counter, int _ref_counter_offset, bytes event_handle,
    # bool event_sync_required)
    assert type(storage_device) is int, storage_device
    assert type(storage_handle) is bytes and len(storage_handle) == 64, storage_handle
    assert type(storage_size_bytes) is int and storage_size_bytes == tensor_size[0], storage_size_bytes
    assert type(storage_offset_bytes) is int, storage_offset_bytes
    assert type(requires_grad) is bool and not requires_grad, requires_grad
    assert type(ref_counter_handle) is bytes and ref_counter_handle.startswith(b"/"), ref_counter_handle
    assert type(ref_counter_offset) is int, ref_counter_offset
    assert type(event_handle) is bytes and len(event_handle) == 64, event_handle
    assert type(event_sync_required) is bool and not event_sync_required, event_sync_required
    return SharedBuffer(storage_size_bytes, dtype, storage_device, storage_handle)
