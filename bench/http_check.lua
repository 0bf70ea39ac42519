-- wrk script for bench/http.sh: POST /v1/check with varied, realistic message bodies.
-- Several tenants, channels, senders and recipients, texts from a two-word thank-you to a long
-- paragraph, some with links (one of them phishing-shaped), so the daemon does the work a real
-- platform would give it rather than answering one cached body. nginx gets the very same
-- requests, so the two numbers differ only by what the server does with them.
-- The key comes from SG_KEY (a platform key, tenant '*', scope check); nginx ignores it.

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("SG_KEY") or "")

local tenants = {"forum", "clinic-18", "shop", "school", "forum-eu"}
local channels = {"private_message", "private_message", "email", "comment", "post",
                  "notification", "sms"}
-- JSON-safe as written (no quotes or backslashes), so they go into the body without escaping.
local texts = {
  "Thanks!",
  "Hi, are you still selling the bike? I could pick it up on Saturday morning.",
  "Your appointment with Dr. Patel is confirmed for Tuesday at 10:30. Reply C to cancel.",
  "Great write-up, the part about sourdough starters finally made it click for me. " ..
    "I tried the overnight method and the crumb came out much more open than before, " ..
    "though the crust was a little pale. Would a hotter oven or a longer bake help? " ..
    "Also curious what flour you use, the supermarket one here is quite low in protein.",
  "New photos from the meetup are up: https://photos.example.org/albums/2026-meetup",
  "See the thread https://forum.example.org/t/12345 and the docs at https://docs.example.org/",
  "URGENT: your account will be suspended today. Verify your details at " ..
    "http://secure-login.example-verify.top/account?id=99182 to keep access.",
  "Order 48213 has shipped and should arrive on Thursday.",
  string.rep("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 40),
}

local counter = 1
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local n = 0
function init(args)
  math.randomseed(os.time() + (tid or 0) * 7919)
end

function request()
  n = n + 1
  local ch = channels[math.random(#channels)]
  local k = math.random(3)
  local rcpts = {}
  for i = 1, k do
    if ch == "email" then
      rcpts[i] = string.format('"p%d@example.net"', math.random(20000))
    elseif ch == "sms" then
      rcpts[i] = string.format('"+4477009%05d"', math.random(99999))
    else
      rcpts[i] = string.format('"m%d"', math.random(20000))
    end
  end
  local body = string.format(
    '{"tenant":"%s","id":"b%d-%d","channel":"%s","sender":"u%d","recipients":[%s],' ..
    '"subject":"Message %d","body":"%s","ip":"198.51.100.%d"}',
    tenants[math.random(#tenants)], tid or 0, n, ch, math.random(5000),
    table.concat(rcpts, ","), n, texts[math.random(#texts)], math.random(254))
  return wrk.format(nil, nil, nil, body)
end
