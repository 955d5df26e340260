select
    source,
    signal,
    prediction_id,
    role
from {{ source('raw_registry', 'signals') }}
