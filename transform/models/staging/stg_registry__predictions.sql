select
    prediction_id,
    slug,
    title,
    headline_metric,
    cast(supported_at as double) as supported_at,
    cast(not_supported_below as double) as not_supported_below
from {{ source('raw_registry', 'predictions') }}
