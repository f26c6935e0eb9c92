def space_table(): raise NotImplementedError
