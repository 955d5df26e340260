{{ config(materialized='table') }}
-- Every registered signal's calendar years in one shape, with the coverage each source needs before its numbers
-- may judge a prediction (see each source's yearly model): `level` compares one year with another (mean daily
-- views, documents, stories), `start_level` → `level` measures change inside a year (stars, prices,
-- split-adjusted).
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

registered as (
    select distinct source, signal from {{ ref('stg_registry__signals') }}
),

measured as (
    select
        'stocks' as source, ticker as key, year, year_end_close as level, prev_year_end_close as start_level,
        return_pct as change_pct, cast(null as date) as start_date, cast(null as date) as end_date,
        months_covered as months_observed, coverage,
        coverage >= settings.min_coverage and prev_year_end_close is not null as is_covered,
        case
            when coverage < settings.min_coverage
                then format('prices in {} of 12 months of {}', months_covered, year)
            when prev_year_end_close is null then format('no close at the end of {}', year - 1)
        end as coverage_note,
        cast(null as double) as last_quarter_share_pct, cast(null as date) as peak_period
    from {{ ref('int_stock_yearly_returns') }}
    cross join settings
    union all
    select
        'trends', term, year, mean_daily_value, null, null, null, null, months_observed, coverage, is_covered,
        case when not is_covered then format('data in {} of 12 months of {}', months_observed, year) end,
        last_quarter_share_pct, peak_period
    from {{ ref('int_topic_interest_yearly') }}
    union all
    select
        'github', repo, year, end_stars, start_stars, growth_pct, start_date, end_date, months_observed,
        date_diff('day', start_date, end_date) / 365.0, is_covered, coverage_note, null, null
    from {{ ref('int_repo_stars_yearly') }}
    union all
    select
        'regulatory', term, year, documents, null, null, null, null, months_observed, coverage, is_covered,
        case when not is_covered then format('documents in {} of 12 months of {}', months_observed, year) end,
        null, null
    from {{ ref('int_regulatory_docs_yearly') }}
    union all
    select
        'news', query, year, stories, null, null, null, null, months_observed, coverage, is_covered,
        case when not is_covered then format('story counts for {} of 12 months of {}', months_observed, year) end,
        null, null
    from {{ ref('int_news_volume_yearly') }}
)

select
    registered.source,
    registered.signal,
    measured.year,
    cast(measured.level as double) as level,
    cast(measured.start_level as double) as start_level,
    measured.change_pct,
    measured.start_date,
    measured.end_date,
    measured.months_observed,
    measured.coverage,
    coalesce(measured.is_covered, false) as is_covered,
    measured.coverage_note,
    measured.last_quarter_share_pct,
    measured.peak_period
from measured
inner join registered
    on registered.source = measured.source and lower(registered.signal) = lower(measured.key)
