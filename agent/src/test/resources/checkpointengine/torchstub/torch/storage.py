class UntypedStorage:
    pass


class TypedStorage:
    pass
