"""Optimizer wrapper constructors."""
from .multiplier_constructor import MultiplierOptimWrapperConstructor

__all__ = ['MultiplierOptimWrapperConstructor']
