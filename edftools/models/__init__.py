"""PyTorch networks built from network configs (imports torch).

``build_network(cfg)`` returns an :class:`AnyNet` whose parameter count equals the analytic
``params`` exactly; ``model.complexity()`` gives its analytic flops/params/acts (pycls rules).
"""

from edftools.models.anynet import AnyNet, ModelComplexity, build_network, init_weights
from edftools.models.layers import Cx

__all__ = ["AnyNet", "Cx", "ModelComplexity", "build_network", "init_weights"]
