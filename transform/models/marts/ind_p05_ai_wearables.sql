-- P05, AI wearables and XR devices: interest in the device articles per month with its share of the peak so far (the headline compares the last quarter with the peak), and the makers' share prices.
with series as (
    select * from {{ indicator_series('P05') }}
)

select
    series.*,
    case when series.source = 'trends' then
        100 * series.value / max(series.value) over (
            partition by series.source, series.signal order by series.period
            rows between unbounded preceding and current row)
    end as pct_of_peak_so_far
from series
