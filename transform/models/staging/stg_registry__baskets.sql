select
    prediction_id,
    role,
    name,
    cast(position as integer) as position
from {{ source('raw_registry', 'baskets') }}
