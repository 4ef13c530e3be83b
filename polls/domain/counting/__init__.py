"""Counting the official result of a question: one module per method, all pure.

    plurality      single choice (or first preferences)   approval     multiple choice
    instant_runoff ranked, 1 seat                          stv          ranked, n seats (Scottish rules)
    borda          ranked (modified Borda count)           condorcet    ranked, pairwise comparison
    schulze        ranked, pairwise comparison             scale        distribution, mean, median
    greedy         budget, by votes                        equal_shares budget, Method of Equal Shares

``official.count`` picks the method for a question. Every result is a frozen dataclass that
``results.as_json`` turns into plain JSON, and every tie is decided by a rule written down in
``ties`` and recorded in the result, so that anyone can recount from the published ballot file.
"""
