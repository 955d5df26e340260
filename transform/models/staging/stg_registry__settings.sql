select
    cast(start_date as date) as start_date,
    cast(baseline_year as integer) as baseline_year,
    cast(prediction_year as integer) as prediction_year,
    cast(min_coverage as double) as min_coverage,
    cast(demonstration_above as double) as demonstration_above,
    cast(as_of as date) as as_of,
    mode
from {{ source('raw_registry', 'settings') }}
