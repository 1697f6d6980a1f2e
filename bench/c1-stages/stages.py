# Pairs each client request with the server's timestamp line (the first server line after its send) and prints stage medians.
#   python3 stages.py CLIENT_JSON SERVER_STDERR
import json,statistics as st,sys
c=json.load(open(sys.argv[1]))
s=[json.loads(l[3:]) for l in open(sys.argv[2]) if l.startswith('TT ')]
rows=[]
j=0
for cs,cr in c:
  while j<len(s) and s[j][0]<cs: j+=1
  if j>=len(s): break
  t0,th,post,w1,w2,w3,wm,ts,tf=s[j]
  if tf>cr: continue
  rows.append(dict(req_to_onrequest=t0-cs, body_to_handler=th-t0, handler_to_post=post-th, post_to_worker=w1-post, ort=w2-w1, worker_out=w3-w2, to_main=wm-w3, main_to_send=ts-wm, send_to_finish=tf-ts, finish_to_client=cr-tf, total=cr-cs))
print(len(rows), 'requests paired')
for k in rows[0]:
  print(f"{k:18s} p50 {st.median(r[k] for r in rows):7.3f} mean {st.mean(r[k] for r in rows):7.3f}")
