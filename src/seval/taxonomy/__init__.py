"""The risk taxonomy: S-Eval's 8 dimensions and 25 categories plus seval's finer risks, as data.

from seval.taxonomy import load_taxonomy
tax = load_taxonomy()
tax.resolve("Data_Privacy").id          # 'dp'
tax.dimension_of("hs.defamation").id    # 'hs'
"""

from seval.taxonomy.loader import Taxonomy, load_taxonomy, normalize_label

__all__ = ["Taxonomy", "load_taxonomy", "normalize_label"]
