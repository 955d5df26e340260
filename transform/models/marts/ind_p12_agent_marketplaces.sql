-- P12, marketplaces for AI agents: interest in the marketplace articles (and in the proxy article the registry names) per month, with its share of the peak so far.
with series as (
    select * from {{ indicator_series('P12') }}
)

select
    series.*,
    case when series.source = 'trends' then
        100 * series.value / max(series.value) over (
            partition by series.source, series.signal order by series.period
            rows between unbounded preceding and current row)
    end as pct_of_peak_so_far
from series
