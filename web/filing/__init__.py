"""Filing certificates for trips: the provider's filing states (kept by the operator), the
engine's answer for each trip, and certificate requests from draft to the authority's decision."""
