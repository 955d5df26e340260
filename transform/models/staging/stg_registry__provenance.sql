select
    source,
    signal,
    dataset,
    provenance,
    origin,
    note
from {{ source('raw_registry', 'provenance') }}
