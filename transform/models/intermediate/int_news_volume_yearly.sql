-- Stories per registered phrase and calendar year. Every month counted is an observation, a month with no
-- story included (a quiet month is a real zero: the search answered it); a month never counted is a gap.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
)

select
    news.query,
    year(news.period) as year,
    sum(news.stories) as stories,
    count(*) as months_observed,
    count(*) / 12.0 as coverage,
    count(*) / 12.0 >= any_value(settings.min_coverage) as is_covered
from {{ ref('fct_news_volume') }} as news
cross join settings
group by all
