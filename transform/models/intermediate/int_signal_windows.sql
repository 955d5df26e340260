{{ config(materialized='table') }}
-- Every registered signal in every window (int_windows), in one shape, with the coverage its source needs before
-- its numbers may judge a prediction. Each window has two spans: `current` (the window) and `prior` (the same days
-- a year earlier), so a window can be compared with the one before it.
--
-- What a span measures: mean daily views (trends), documents (regulatory) and stories (news) over the months it
-- touches; for stocks the last close before the span and the last one in it (split-adjusted); for repos the star
-- counts nearest to the span's first day and to the day after its last, each within `edge_days` of it.
--
-- A signal that did not exist before some day is judged from that day, and the evidence says so: an article from
-- its first observation (Wikimedia counts an article from its creation), a ticker from its first trading day
-- (Yahoo's firstTradeDate), a repo from its creation (GitHub's created_at). Gaps inside its life still count.
with settings as (
    select *, cast(floor(365 * (1 - min_coverage) / 2) as integer) as edge_days
    from {{ ref('stg_registry__settings') }}
),

spans as (
    select "window", 'current' as span, window_start as span_start, window_end as span_end, label, start_label
    from {{ ref('int_windows') }}
    union all
    select "window", 'prior', prior_start, prior_end, prior_label, prior_start_label
    from {{ ref('int_windows') }}
),

registered as (
    select distinct source, signal from {{ ref('stg_registry__signals') }}
),

-- ---------------------------------------------------------------------------------------------- trends
interest_monthly as (
    select * from {{ ref('int_topic_interest_monthly') }}
),

interest_life as (
    select term, min(period) as life_start from interest_monthly group by term
),

interest as (
    select
        'trends' as source,
        life.term as signal,
        spans."window",
        spans.span,
        sum(monthly.views) / sum(monthly.days_observed) as level,
        cast(null as double) as start_level,
        count(monthly.period) as months_observed,
        greatest(date_diff('month', greatest(date_trunc('month', spans.span_start), life.life_start),
                           date_trunc('month', spans.span_end)) + 1, 0) as months_expected,
        life.life_start > date_trunc('month', spans.span_start) as from_life_start,
        life.life_start,
        sum(monthly.views) filter (where monthly.period >= date_trunc('month', spans.span_end) - interval 2 month)
            / sum(monthly.days_observed) filter (where monthly.period >= date_trunc('month', spans.span_end)
                - interval 2 month) as last_quarter_mean,
        'data' as observed_word,
        cast(null as varchar) as edge_note
    from interest_life as life
    cross join spans
    left join interest_monthly as monthly
        on monthly.term = life.term
        and monthly.period between date_trunc('month', spans.span_start) and spans.span_end
    group by life.term, life.life_start, spans."window", spans.span, spans.span_start, spans.span_end
),

interest_peaks as (
    select
        life.term,
        spans."window",
        spans.span,
        arg_max(monthly.period, monthly.mean_daily_value) as peak_period,
        max(monthly.mean_daily_value) as peak_mean
    from interest_life as life
    cross join spans
    inner join interest_monthly as monthly on monthly.term = life.term and monthly.period <= spans.span_end
    group by all
),

-- ---------------------------------------------------------------------------------------------- stocks
closes as (
    select ticker, trade_date, close from {{ ref('fct_stock_daily') }} where close is not null
),

listings as (
    select ticker, first_trade_date from {{ ref('stg_stocks__listings') }}
),

stocks as (
    select
        'stocks' as source,
        tickers.ticker as signal,
        spans."window",
        spans.span,
        arg_max(closes.close, closes.trade_date) filter (where closes.trade_date between spans.span_start
            and spans.span_end) as level,
        case
            when listings.first_trade_date > spans.span_start
                then arg_min(closes.close, closes.trade_date) filter (where closes.trade_date
                    between spans.span_start and spans.span_end)
            else arg_max(closes.close, closes.trade_date) filter (where closes.trade_date < spans.span_start)
        end as start_level,
        count(distinct date_trunc('month', closes.trade_date)) filter (where closes.trade_date
            between spans.span_start and spans.span_end) as months_observed,
        greatest(date_diff('month', date_trunc('month', greatest(spans.span_start, coalesce(
            listings.first_trade_date, spans.span_start))), date_trunc('month', spans.span_end)) + 1, 0)
            as months_expected,
        coalesce(listings.first_trade_date > spans.span_start, false) as from_life_start,
        listings.first_trade_date as life_start,
        cast(null as double) as last_quarter_mean,
        'prices' as observed_word,
        case
            when listings.first_trade_date > spans.span_start then null
            when count(*) filter (where closes.trade_date < spans.span_start) = 0
                then format('no close at {}', spans.start_label)
        end as edge_note
    from (select distinct ticker from closes) as tickers
    cross join spans
    left join listings on listings.ticker = tickers.ticker
    left join closes on closes.ticker = tickers.ticker and closes.trade_date <= spans.span_end
    group by tickers.ticker, spans."window", spans.span, spans.span_start, spans.span_end, spans.start_label,
        listings.first_trade_date
),

-- ------------------------------------------------------------------------------------------------ github
stars as (
    select repo, observed_date, stars from {{ ref('fct_repo_stars') }}
),

created as (
    select repo, cast(min(created_at) as date) as created_date from {{ ref('stg_github__repos') }} group by repo
),

repo_spans as (
    select
        repos.repo,
        spans."window",
        spans.span,
        spans.span_start,
        spans.span_end,
        spans.label,
        created.created_date,
        coalesce(created.created_date > spans.span_start + settings.edge_days, false) as from_life_start,
        settings.edge_days
    from (select distinct repo from stars) as repos
    cross join spans
    cross join settings
    left join created on created.repo = repos.repo
),

-- The count nearest the span's first day (or, for a repo created inside it, its first count), and the one nearest
-- the day after its last; each within edge_days, ties to the earlier observation.
star_edges as (
    select
        repo_spans.repo,
        repo_spans."window",
        repo_spans.span,
        arg_min(stars.stars, (abs(date_diff('day', repo_spans.span_start, stars.observed_date)),
            stars.observed_date)) filter (where not repo_spans.from_life_start
            and abs(date_diff('day', repo_spans.span_start, stars.observed_date)) <= repo_spans.edge_days)
            as edge_start,
        arg_min(stars.stars, stars.observed_date) filter (where repo_spans.from_life_start
            and stars.observed_date between repo_spans.created_date and repo_spans.span_end) as first_count,
        arg_min(stars.stars, (abs(date_diff('day', repo_spans.span_end + 1, stars.observed_date)),
            stars.observed_date)) filter (where abs(date_diff('day', repo_spans.span_end + 1, stars.observed_date))
            <= repo_spans.edge_days) as edge_end,
        count(distinct date_trunc('month', stars.observed_date)) filter (where stars.observed_date
            between repo_spans.span_start and repo_spans.span_end) as months_observed
    from repo_spans
    left join stars
        on stars.repo = repo_spans.repo
        and stars.observed_date between repo_spans.span_start - repo_spans.edge_days
            and repo_spans.span_end + 1 + repo_spans.edge_days
    group by all
),

github as (
    select
        'github' as source,
        repo_spans.repo as signal,
        repo_spans."window",
        repo_spans.span,
        cast(star_edges.edge_end as double) as level,
        cast(coalesce(star_edges.edge_start, star_edges.first_count) as double) as start_level,
        star_edges.months_observed,
        cast(null as bigint) as months_expected,
        repo_spans.from_life_start,
        repo_spans.created_date as life_start,
        cast(null as double) as last_quarter_mean,
        'stars' as observed_word,
        case
            when coalesce(star_edges.edge_start, star_edges.first_count) is null and star_edges.edge_end is null
                then format('no star count within {} days of {} or {}', repo_spans.edge_days, repo_spans.span_start,
                    repo_spans.span_end + 1)
            when coalesce(star_edges.edge_start, star_edges.first_count) is null
                then format('no star count within {} days of {}', repo_spans.edge_days, repo_spans.span_start)
            when star_edges.edge_end is null
                then format('no star count within {} days of {}', repo_spans.edge_days, repo_spans.span_end + 1)
            when coalesce(star_edges.edge_start, star_edges.first_count) = 0
                then format('0 stars at the start of {}', repo_spans.label)
        end as edge_note
    from repo_spans
    inner join star_edges using (repo, "window", span)
),

-- ------------------------------------------------------------------------------------------ regulatory, news
documents as (
    -- A registered term is broad: a month without a single document is a gap in the source, not a quiet month.
    select {{ counted_span('regulatory', 'monthly.term', 'monthly.documents',
        months_observed='count(*) filter (where monthly.documents > 0)', observed_word='documents') }}
    from {{ ref('int_regulatory_docs_monthly') }} as monthly
    inner join spans on monthly.period between date_trunc('month', spans.span_start) and spans.span_end
    group by all
),

news as (
    -- Every counted month is an observation: a month without a story is a real zero.
    select {{ counted_span('news', 'phrases.query', 'volume.stories',
        months_observed='count(volume.period)', observed_word='story counts') }}
    from (select distinct query from {{ ref('fct_news_volume') }}) as phrases
    cross join spans
    left join {{ ref('fct_news_volume') }} as volume
        on volume.query = phrases.query
        and volume.period between date_trunc('month', spans.span_start) and spans.span_end
    group by all
),

measured as (
    select * from interest
    union all
    select * from stocks
    union all
    select * from github
    union all
    select * from documents
    union all
    select * from news
),

judged as (
    select
        measured.*,
        spans.label,
        coalesce(measured.months_observed, 0) / nullif(measured.months_expected, 0) as coverage,
        coalesce(measured.months_observed, 0) / nullif(measured.months_expected, 0) >= settings.min_coverage
            as months_enough
    from measured
    cross join settings
    inner join spans using ("window", span)
),

-- Repos are judged by their edge counts alone; the others by months with data, then by their edge (a close
-- before the span), each gap named as the source's yearly models always named it.
described as (
    select
        judged.*,
        case
            when source = 'github' then edge_note is null
            else coalesce(months_observed, 0) > 0 and coalesce(months_enough, false) and edge_note is null
        end as is_covered,
        case
            when source = 'github' then edge_note
            when coalesce(months_observed, 0) = 0 then format('no data in {}', label)
            when not coalesce(months_enough, false)
                then format('{} in {} of {} months of {}', observed_word, months_observed, months_expected, label)
            else edge_note
        end as coverage_note
    from judged
),

current as (
    select * from described where span = 'current'
),

prior as (
    select * from described where span = 'prior'
)

select
    registered.source,
    registered.signal,
    windows."window",
    cast(current.level as double) as level,
    cast(current.start_level as double) as start_level,
    100 * (current.level / nullif(current.start_level, 0) - 1) as change_pct,
    cast(prior.level as double) as prior_level,
    current.months_observed,
    current.months_expected,
    current.coverage,
    coalesce(current.is_covered, false) as is_covered,
    case when current.source is null then format('no data in {}', windows.label) else current.coverage_note end
        as coverage_note,
    coalesce(prior.is_covered, false) as prior_is_covered,
    case when prior.source is null then format('no data in {}', windows.prior_label) else prior.coverage_note end
        as prior_coverage_note,
    -- When the signal began inside a span, the day it is judged from there (named in the evidence).
    case when current.from_life_start then current.life_start end as judged_from,
    case when prior.from_life_start then prior.life_start end as prior_judged_from,
    100 * current.last_quarter_mean / peaks.peak_mean as last_quarter_share_pct,
    peaks.peak_period
from registered
cross join {{ ref('int_windows') }} as windows
left join current
    on current.source = registered.source and lower(current.signal) = lower(registered.signal)
    and current."window" = windows."window"
left join prior
    on prior.source = registered.source and lower(prior.signal) = lower(registered.signal)
    and prior."window" = windows."window"
left join interest_peaks as peaks
    on registered.source = 'trends' and peaks.term = registered.signal and peaks."window" = windows."window"
    and peaks.span = 'current'
