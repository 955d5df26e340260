select
    source,
    signal,
    provenance,
    origin,
    note
from {{ source('raw_registry', 'provenance') }}
