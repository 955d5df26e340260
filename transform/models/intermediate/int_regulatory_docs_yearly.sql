-- Documents per registered search term and calendar year. A month without a single document counts as a month
-- without data: the registered terms are broad enough that a silent month means a gap in the source.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
)

select
    monthly.term,
    year(monthly.period) as year,
    sum(monthly.documents) as documents,
    count(*) filter (where monthly.documents > 0) as months_observed,
    count(*) filter (where monthly.documents > 0) / 12.0 as coverage,
    count(*) filter (where monthly.documents > 0) / 12.0 >= any_value(settings.min_coverage) as is_covered
from {{ ref('int_regulatory_docs_monthly') }} as monthly
cross join settings
group by all
