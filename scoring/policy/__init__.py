"""Differentiated policy (差别化政策): what a class means for a firm.

A county's policy rule set (YAML, :mod:`scoring.policy.schema`, validated with the one
rule-file helper :mod:`gis.yaml_schema`) says which items (electricity, water, sewage and
gas surcharges; land-use tax relief or surcharge; energy and emission quotas;
eligibility flags) apply to which classes, at which rate, from when, who collects.
:mod:`scoring.policy.kernel` computes the amounts for every enterprise (pure, vectorized,
amounts in whole fen); :mod:`scoring.policy.apply` reads the classes and inputs from
PostGIS and stores a policy run; :mod:`scoring.policy.ledger` follows each line from
notified to collected to refunded or granted.
"""
