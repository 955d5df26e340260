-- P02, architectures beyond transformers: month-end stars of the challenger and incumbent repos, each one's share
-- of the stars both gained over the last 12 months, and interest in the registered articles.
with series as (
    select * from {{ indicator_series('P02') }}
)

select
    series.*,
    case when series.source = 'github' and series.role in ('challenger', 'incumbent') then
        100 * series.change_12m / nullif(sum(series.change_12m) filter (
            where series.source = 'github' and series.role in ('challenger', 'incumbent')
        ) over (partition by series.period), 0)
    end as share_of_12m_star_gain_pct
from series
